"""Reading records: JSONL, CSV in every encoding Excel saves, XLSX, header aliases, day-first
dates, and errors that name file, row, record and field but never repeat record text."""

from __future__ import annotations

import codecs
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from auditor.records import InputError, PlanType, RecordType, read_batch, read_records

SECRET = "Mum disclosed that her partner hit Child A"


def _csv(tmp_path: Path, content: str, encoding: str, bom: bytes = b"", name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(bom + content.encode(encoding))
    return path


ANNEX_A = (
    "Record ID,Note Type,Case Note Text,Child Unique ID,Allocated Team,Allocated Worker,Date,Plan Type\r\n"
    'R1,Child Protection Plan,"Mum to attend café group weekly; SW to visit by 31.12.20",C-1,Safeguarding East,W-1,31/12/2020,CP\r\n'
)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("cp1252", b""),
    ],
)
def test_csv_in_every_encoding_excel_saves(tmp_path: Path, encoding: str, bom: bytes) -> None:
    [record] = list(read_records(_csv(tmp_path, ANNEX_A, encoding, bom)))
    assert record.id == "R1"
    assert record.record_type is RecordType.plan
    assert record.plan_type is PlanType.cp
    assert "café" in record.text  # the accent survives every encoding
    assert record.child_id == "C-1"
    assert record.team == "Safeguarding East"
    assert record.worker == "W-1"
    assert record.recorded_at == date(2020, 12, 31)


def test_tab_separated_utf16_unicode_text(tmp_path: Path) -> None:
    content = "id\trecord_type\ttext\r\nR9\tdecision\tExtension agreed.\r\n"
    [record] = list(read_records(_csv(tmp_path, content, "utf-16-le", codecs.BOM_UTF16_LE, "export.txt")))
    assert record.id == "R9" and record.record_type is RecordType.decision


def test_jsonl_with_aliases_and_iso_dates(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    rows = [
        {"id": "A", "record_type": "review", "text": "x", "recorded_at": "2021-03-01"},
        {"Record ID": 7, "Note Type": "Case note", "Narrative": "y", "Date": "3.9.21"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    first, second = read_records(path)
    assert first.recorded_at == date(2021, 3, 1)
    assert second.id == "7" and second.record_type is RecordType.case_note
    assert second.recorded_at == date(2021, 9, 3)


def test_xlsx_with_date_cells(tmp_path: Path) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Record ID", "Record Type", "Text", "Recorded Date", "Plan Type"])
    sheet.append(["P1", "plan", "SW to visit weekly.", datetime(2021, 2, 3), "Early Help"])
    sheet.append([None, None, None, None, None])
    sheet.append([2, "supervision", "TM agreed.", "03/02/2021", None])
    path = tmp_path / "export.xlsx"
    book.save(path)
    first, second = read_records(path)
    assert first.recorded_at == date(2021, 2, 3) and first.plan_type is PlanType.early_help
    assert second.id == "2" and second.recorded_at == date(2021, 2, 3)


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        list(read_records(path))
    return caught.value


def test_bad_date_names_file_row_record_and_field_without_text(tmp_path: Path) -> None:
    content = f'id,record_type,text,recorded_at\r\nR1,plan,ok,01/01/2021\r\nR2,plan,"{SECRET}",31/02/2021\r\n'
    error = _error(_csv(tmp_path, content, "utf-8"))
    assert (error.row, error.record_id, error.field) == (3, "R2", "recorded_at")
    assert "export.csv" in str(error) and "row 3" in str(error)
    assert SECRET not in str(error) and "31/02/2021" not in str(error)


def test_unknown_record_type(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, "id,record_type,text\r\nR1,letter,hello\r\n", "utf-8"))
    assert (error.row, error.field) == (2, "record_type")
    assert "plan" in error.message  # says what is allowed


def test_missing_required_column(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, "id,text\r\nR1,hello\r\n", "utf-8"))
    assert error.row == 1 and "record_type" in error.message


def test_row_numbers_count_spreadsheet_rows_with_multiline_cells(tmp_path: Path) -> None:
    content = 'id,record_type,text\r\nR1,plan,"line one\r\nline two"\r\nR2,memo,x\r\n'
    error = _error(_csv(tmp_path, content, "utf-8"))
    assert error.row == 3 and error.record_id == "R2" and error.field == "record_type"


def test_unclosed_quote(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, f'id,record_type,text\r\nR1,plan,"{SECRET}\r\n', "utf-8"))
    assert error.row == 2 and SECRET not in str(error)


def test_invalid_json_line(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(
        '{"id": "A", "record_type": "plan", "text": "x"}\n{"id": "B", "text": "' + SECRET + "\n", encoding="utf-8"
    )
    error = _error(path)
    assert error.row == 2 and SECRET not in str(error)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_text("x")
    assert "unsupported" in _error(tmp_path / "x.pdf").message
    assert "not found" in _error(tmp_path / "nope.csv").message


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    one = _csv(tmp_path, "id,record_type,text\r\nR1,plan,a\r\n", "utf-8", name="one.csv")
    two = _csv(tmp_path, "id,record_type,text\r\nR2,plan,b\r\nR1,plan,c\r\n", "utf-8", name="two.csv")
    with pytest.raises(InputError) as caught:
        read_batch([one, two])
    assert caught.value.row == 3 and caught.value.record_id == "R1" and "one.csv" in caught.value.message


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_a_file_mixing_utf8_and_cp1252_cells_is_read_as_written(tmp_path: Path, bom: bytes) -> None:
    """Each cell is read as UTF-8, and one that is not UTF-8 as cp1252: a cp1252 export whose text
    happens to hold a UTF-8-shaped pair, and a UTF-8 export with a cell pasted from a cp1252
    source, both read every row (the whole file was once decoded one way, refusing or garbling)."""
    path = tmp_path / "mixed.csv"
    rows = [
        b"id,record_type,text\r\n",
        "R1,case_note,Mum\u2019s rent is \u00a3200.\r\n".encode("cp1252"),
        "R2,case_note,Child A\u2019s caf\u00e9 visit.\r\n".encode(),  # UTF-8
        "R3,case_note,JOS\u00c9\u2019S note \u2013 seen.\r\n".encode("cp1252"),  # holds \xc9\x92, UTF-8-shaped
    ]
    path.write_bytes(bom + b"".join(rows))
    texts = {r.id: r.text for r in read_records(path)}
    assert texts == {
        "R1": "Mum\u2019s rent is \u00a3200.",
        "R2": "Child A\u2019s caf\u00e9 visit.",
        "R3": "JOS\u00c9\u2019S note \u2013 seen.",
    }
