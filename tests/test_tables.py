"""Reading exports through a profile (issue 6): the same rows from CSV, XLSX, JSONL and Parquet
give the same records; a malformed row is quarantined with its reason and the rest are read; a
header row the profile cannot account for stops the file before any row; rows come in chunks."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.profiles import load_profile
from auditor.records import RecordType
from auditor.tables import Row, TableError, read_chunks

GENERIC = load_profile("generic")
SECRET = "Mum said Sarah Jones lives at 4 Elm Road"  # must never appear in a reason
HEADERS = ["Record ID", "Note Type", "Narrative", "Date", "Allocated Team", "Status"]
ROWS: list[list[Any]] = [
    ["N-1", "Case note", "SW visited; Child A seen alone.", "03/09/21", "Safeguarding East", "final"],
    ["N-2", "Management decision", f"Extend assessment. {SECRET}", "14.03.21", "Safeguarding West", "final"],
    ["N-3", "Tea break", SECRET, "14.03.21", "Safeguarding West", "draft"],  # not a record type
    ["N-4", "Supervision", "Plan reviewed with TM.", "31/02/2021", "", "final"],  # no such date
    ["N-5", "LAC review", "", "2021-05-04", "Early Help North", ""],  # an empty text is a record
]


def _write(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows(rows)
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        book.save(path)
    elif suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps(dict(zip(headers, row, strict=True))) + "\n" for row in rows), encoding="utf-8"
        )
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({h: [str(row[i]) for row in rows] for i, h in enumerate(headers)})
        pq.write_table(table, path)
    return path


def _rows(path: Path, **options: Any) -> list[Row]:
    return [row for chunk in read_chunks(path, GENERIC, **options) for row in chunk]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl", ".parquet"])
def test_every_format_gives_the_same_records_and_quarantines_the_same_rows(tmp_path: Path, suffix: str) -> None:
    rows = _rows(_write(tmp_path / f"export{suffix}", HEADERS, ROWS))
    assert [r.row for r in rows] == ([1, 2, 3, 4, 5] if suffix == ".jsonl" else [2, 3, 4, 5, 6])
    good = [r.record for r in rows if r.record is not None]
    assert [(g.id, g.record_type, g.team) for g in good] == [
        ("N-1", RecordType.case_note, "Safeguarding East"),
        ("N-2", RecordType.decision, "Safeguarding West"),
        ("N-5", RecordType.review, "Early Help North"),
    ]
    assert str(good[0].recorded_at) == "2021-09-03" and good[2].text == ""
    bad = {r.record_id: r for r in rows if r.record is None}
    assert (bad["N-3"].field, bad["N-4"].field) == ("record_type", "recorded_at")
    assert "must be one of" in (bad["N-3"].reason or "") and "not a valid date" in (bad["N-4"].reason or "")
    assert all(SECRET not in str(r) and "Tea break" not in str(r) for r in bad.values())


def test_rows_come_in_chunks_in_file_order(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.csv", HEADERS, ROWS)
    chunks = list(read_chunks(path, GENERIC, chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [r.record_id for c in chunks for r in c] == ["N-1", "N-2", "N-3", "N-4", "N-5"]


def test_a_header_row_the_profile_cannot_account_for_stops_the_file_naming_every_problem(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.csv", ["Record ID", "Shoe size", "Narrative", "Notes"], [["N-1", "9", "a", "b"]])
    with pytest.raises(TableError) as raised:
        _rows(path)
    problems = [str(p) for p in raised.value.problems]
    assert problems == [
        f"{path}, row 1, column 2: unknown column (map it or ignore it in the profile)",
        f"{path}, row 1, column 4 ('Notes'): a second column for 'text' (first: column 3)",
        f"{path}, row 1: no column for required field 'record_type'",
    ]


def test_a_csv_row_with_more_cells_than_the_header_is_quarantined_and_the_next_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Record ID,Note Type,Narrative\nN-1,Case note,one,extra\nN-2,Case note,two\n", encoding="utf-8")
    first, second = _rows(path)
    assert first.record is None and first.reason == "has 4 cells; the header has 3" and first.record_id == "N-1"
    assert second.record is not None and second.record.id == "N-2"


def test_jsonl_lines_are_each_judged_alone(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    lines = [
        json.dumps({"Record ID": "J-1", "Note Type": "Case note", "Narrative": "fine"}),
        "{not json " + SECRET,
        json.dumps(["a", "list"]),
        json.dumps({"Record ID": "J-4", "Note Type": "Case note", "Narrative": SECRET, "Shoe size": 9}),
        "",
        json.dumps({"Record ID": "J-6", "Note Type": "Review", "Narrative": "fine"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = _rows(path)
    assert [(r.row, r.record is not None) for r in rows] == [(1, True), (2, False), (3, False), (4, False), (6, True)]
    assert [r.reason for r in rows if r.record is None] == [
        "is not valid JSON",
        "is not a JSON object",
        "unknown column (map it or ignore it in the profile)",
    ]
    assert all(SECRET not in str(r) for r in rows)


def test_files_that_cannot_be_read_say_so(tmp_path: Path) -> None:
    for name, content, message in (
        ("missing.csv", None, "no such file"),
        ("export.pdf", b"%PDF", "unsupported file type"),
        ("export.parquet", b"not parquet", "is not a readable Parquet file"),
        ("export.xlsx", b"not a zip", "is not a readable XLSX workbook"),
        ("empty.csv", b"", "the file is empty"),
    ):
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(TableError, match=message):
            _rows(path)


def test_a_file_without_a_header_row_is_refused_without_repeating_its_first_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"N-1,{SECRET},14.03.21\nN-2,fine,15.03.21\n", encoding="utf-8")
    with pytest.raises(TableError) as raised:
        _rows(path)
    assert [p.problem for p in raised.value.problems] == ["no column the profile knows: is the header row missing?"]
    assert SECRET not in str(raised.value) and "N-1" not in str(raised.value)
    # A cell that happens to be a known header ("Case note") does not let the others be quoted.
    path.write_text(f"N-1,Case note,{SECRET}\n", encoding="utf-8")
    with pytest.raises(TableError) as raised:
        _rows(path)
    assert SECRET not in str(raised.value) and "column 3: unknown column" in str(raised.value)


def test_a_folder_stands_for_the_files_in_it_that_can_be_read(tmp_path: Path) -> None:
    from auditor.tables import expand_inputs

    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.csv", "a.jsonl", ".hidden.csv", "notes.md", "c.PARQUET", "sub/d.csv"):
        (folder / name).write_text("", encoding="utf-8")
    single = tmp_path / "single.xlsx"
    assert expand_inputs([single, folder]) == [single, folder / "a.jsonl", folder / "b.csv", folder / "c.PARQUET"]
    # A file named twice, itself and in its folder, is read once.
    assert expand_inputs([folder / "b.csv", folder]) == [folder / "b.csv", folder / "a.jsonl", folder / "c.PARQUET"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(TableError) as error:
        expand_inputs([tmp_path / "empty"])
    assert "no file to read" in str(error.value)
