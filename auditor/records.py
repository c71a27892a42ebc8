"""Records: the model, header aliases (Annex A and the Standard Safeguarding Dataset) and readers.

Readers yield records one at a time and raise `InputError` naming the file, row, record id and
field. No error message ever repeats a cell's content: record text is about children at risk.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from auditor.dates import coerce_date


class RecordType(StrEnum):
    plan = "plan"
    decision = "decision"
    supervision = "supervision"
    review = "review"
    case_note = "case_note"


class PlanType(StrEnum):
    cp = "cp"
    cin = "cin"
    cla = "cla"
    pathway = "pathway"
    pep = "pep"
    early_help = "early_help"


MAX_TEXT_CHARS = 2_000_000


class Record(BaseModel):
    """One plan, decision, supervision, review or case note."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    record_type: RecordType
    text: str = Field(max_length=MAX_TEXT_CHARS)
    plan_type: PlanType | None = None
    recorded_at: date | None = None
    child_id: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    worker: str | None = Field(default=None, max_length=200)
    plan_start_date: date | None = None
    la_code: str | None = Field(default=None, max_length=20)

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else str(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("record_type", mode="before")
    @classmethod
    def _record_type_synonyms(cls, value: object) -> object:
        return _lookup(value, RECORD_TYPE_SYNONYMS)

    @field_validator("plan_type", mode="before")
    @classmethod
    def _plan_type_synonyms(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return _lookup(value, PLAN_TYPE_SYNONYMS)

    @field_validator("recorded_at", "plan_start_date", mode="before")
    @classmethod
    def _day_first_dates(cls, value: object) -> object:
        return coerce_date(value)

    @field_validator("child_id", "team", "worker", "la_code", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text or None


TEXT_FIELDS = ("id", "text", "child_id", "team", "worker", "la_code")


def nul_field(record: Record) -> str | None:
    """The first text field holding a NUL character (which PostgreSQL cannot store), if any."""
    return next((f for f in TEXT_FIELDS if "\x00" in (getattr(record, f) or "")), None)


def normalise_key(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", value.lower())


def _lookup(value: object, synonyms: dict[str, str]) -> object:
    if not isinstance(value, str):
        return value
    return synonyms.get(normalise_key(value), value.strip())


RECORD_TYPE_SYNONYMS = {
    normalise_key(k): v
    for k, v in {
        "plan": "plan",
        "child protection plan": "plan",
        "child in need plan": "plan",
        "care plan": "plan",
        "pathway plan": "plan",
        "personal education plan": "plan",
        "early help plan": "plan",
        "decision": "decision",
        "management decision": "decision",
        "manager decision": "decision",
        "management oversight": "decision",
        "supervision": "supervision",
        "supervision record": "supervision",
        "review": "review",
        "looked after review": "review",
        "lac review": "review",
        "cla review": "review",
        "review conference": "review",
        "case note": "case_note",
        "case_note": "case_note",
        "casenote": "case_note",
        "contact": "case_note",
        "visit": "case_note",
        "home visit": "case_note",
    }.items()
}

PLAN_TYPE_SYNONYMS = {
    normalise_key(k): v
    for k, v in {
        "cp": "cp",
        "cpp": "cp",
        "child protection": "cp",
        "child protection plan": "cp",
        "cin": "cin",
        "child in need": "cin",
        "child in need plan": "cin",
        "cla": "cla",
        "lac": "cla",
        "cic": "cla",
        "care plan": "cla",
        "looked after": "cla",
        "child looked after": "cla",
        "pathway": "pathway",
        "pathway plan": "pathway",
        "pep": "pep",
        "personal education plan": "pep",
        "early help": "early_help",
        "early_help": "early_help",
        "eh": "early_help",
        "early help plan": "early_help",
    }.items()
}

# Header names seen in case management exports, Annex A returns and the Standard Safeguarding
# Dataset, normalised (lower case, letters and digits only) onto the record's fields.
HEADER_ALIASES: dict[str, str] = {
    normalise_key(k): v
    for k, v in {
        "id": "id",
        "record id": "id",
        "case note id": "id",
        "casenote id": "id",
        "note id": "id",
        "form id": "id",
        "plan id": "id",
        "document id": "id",
        "record_type": "record_type",
        "record type": "record_type",
        "note type": "record_type",
        "case note type": "record_type",
        "form type": "record_type",
        "document type": "record_type",
        "text": "text",
        "note": "text",
        "notes": "text",
        "case note": "text",
        "case note text": "text",
        "narrative": "text",
        "body": "text",
        "content": "text",
        "plan text": "text",
        "plan_type": "plan_type",
        "plan type": "plan_type",
        "recorded_at": "recorded_at",
        "recorded at": "recorded_at",
        "recorded date": "recorded_at",
        "date recorded": "recorded_at",
        "date": "recorded_at",
        "case note date": "recorded_at",
        "date of event": "recorded_at",
        "event date": "recorded_at",
        "decision date": "recorded_at",
        "child_id": "child_id",
        "child id": "child_id",
        "child unique id": "child_id",
        "childunique id": "child_id",
        "child identifier": "child_id",
        "person id": "child_id",
        "unique pupil number": "child_id",
        "team": "team",
        "allocated team": "team",
        "team name": "team",
        "worker": "worker",
        "allocated worker": "worker",
        "worker id": "worker",
        "case worker": "worker",
        "author": "worker",
        "plan_start_date": "plan_start_date",
        "plan start date": "plan_start_date",
        "cp plan start date": "plan_start_date",
        "child protection plan start date": "plan_start_date",
        "cin plan start date": "plan_start_date",
        "la_code": "la_code",
        "la code": "la_code",
        "la": "la_code",
        "local authority code": "la_code",
        "la number": "la_code",
    }.items()
}


@dataclass(frozen=True)
class InputError(Exception):
    """Unreadable input, located precisely but without repeating any content."""

    file: str
    message: str
    row: int | None = None
    record_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.record_id is not None:
            where.append(f"record {self.record_id!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}"


def map_headers(headers: Iterable[object], file: str) -> dict[int, str]:
    """Column index -> record field. Unknown columns are ignored; missing required ones are errors."""
    mapping: dict[int, str] = {}
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = HEADER_ALIASES.get(normalise_key(str(header or "")))
        if field is None:
            continue
        if field in seen:
            raise InputError(file, f"two columns map to {field!r}", row=1, field=str(header))
        seen[field] = index
        mapping[index] = field
    missing = [f for f in ("id", "record_type", "text") if f not in seen]
    if missing:
        raise InputError(file, f"no column for required field(s): {', '.join(missing)}", row=1)
    return mapping


def build_record(raw: dict[str, Any], file: str, row: int) -> Record:
    """Validate one raw mapping of field -> value, raising InputError located at file and row."""
    try:
        return Record.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        # An id that is itself invalid is not repeated: it may be anything (a note pasted into
        # the id column).
        record_id = quotable_id(raw.get("id")) if field != "id" else None
        raise InputError(file, _describe(error), row=row, record_id=record_id, field=field) from None


def quotable_id(value: object) -> str | None:
    """A raw id as an error may name it: text or a whole number, short, printable; else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    text = str(value).strip()
    if not text or len(text) > 200 or not text.isprintable():
        return None
    return text


def _describe(error: Any) -> str:
    # pydantic messages may quote the input; build our own from the error type only.
    kind = error["type"]
    loc = error["loc"][0] if error["loc"] else None
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a record field"
    if loc == "record_type":
        return f"must be one of {', '.join(t.value for t in RecordType)}"
    if loc == "plan_type":
        return f"must be one of {', '.join(t.value for t in PlanType)}"
    if loc in ("recorded_at", "plan_start_date"):
        return "is not a valid date (use day first, 31/12/2020 or 31.12.20, or ISO 2020-12-31)"
    if kind == "string_too_long":
        return f"is too long (limit {error.get('ctx', {}).get('max_length')} characters)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("string_type", "str_type"):
        return "must be text"
    return "is not valid"


# ---------------------------------------------------------------------------------------------
# Readers


def read_records(path: str | Path) -> Iterator[Record]:
    """Records from a JSONL, CSV (or tab-separated text) or XLSX file, in file order."""
    for _row, record in iter_rows(path):
        yield record


def iter_rows(path: str | Path) -> Iterator[tuple[int, Record]]:
    """(row, record) pairs; the row is the line (JSONL) or spreadsheet row (CSV, XLSX; header = 1)."""
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(name, "file not found")
    if path.is_dir():
        raise InputError(name, "is a folder, not a file")
    if suffix in (".jsonl", ".ndjson", ".json"):
        yield from _read_jsonl(path, name)
    elif suffix in (".csv", ".tsv", ".txt"):
        yield from _read_csv(path, name)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path, name)
    else:
        raise InputError(name, "unsupported file type (use .jsonl, .csv, .tsv or .xlsx)")


def read_batch(paths: Iterable[str | Path]) -> list[tuple[str, int, Record]]:
    """Every record of every file, checked for unique ids across the batch, before any is scored."""
    seen: dict[str, tuple[str, int]] = {}
    batch: list[tuple[str, int, Record]] = []
    for path in paths:
        for row, record in iter_rows(path):
            if record.id in seen:
                first_file, first_row = seen[record.id]
                raise InputError(
                    str(path),
                    f"duplicate id (first seen in {first_file}, row {first_row})",
                    row=row,
                    record_id=record.id,
                    field="id",
                )
            seen[record.id] = (str(path), row)
            batch.append((str(path), row, record))
    return batch


def _read_jsonl(path: Path, name: str) -> Iterator[tuple[int, Record]]:
    with _open_text(path, name) as handle:
        for line_number, line in _decoded_lines(handle, name):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(name, "not valid JSON", row=line_number) from None
            if not isinstance(raw, dict):
                raise InputError(name, "each line must be a JSON object", row=line_number)
            yield line_number, build_record(_rename(raw), name, line_number)


def _rename(raw: dict[str, Any]) -> dict[str, Any]:
    renamed: dict[str, Any] = {}
    for key, value in raw.items():
        field = HEADER_ALIASES.get(normalise_key(str(key)), str(key))
        renamed[field] = value
    return renamed


def _read_csv(path: Path, name: str) -> Iterator[tuple[int, Record]]:
    with _open_text(path, name) as handle:
        try:
            reader = csv_reader(handle)
        except UnicodeDecodeError:
            raise InputError(name, "is not valid text in its encoding", row=1) from None
        try:
            headers = next(reader)
        except StopIteration:
            raise InputError(name, "file is empty") from None
        except csv.Error:
            raise InputError(name, "header row is not valid CSV", row=1) from None
        mapping = map_headers(headers, name)
        row = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError:
                raise InputError(name, "is not valid text in its encoding", row=row + 1) from None
            except csv.Error:
                raise InputError(name, "malformed CSV (an unclosed quote?)", row=row + 1) from None
            row += 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(headers):
                raise InputError(name, f"has {len(cells)} cells but the header has {len(headers)}", row=row)
            raw = {field: cells[index] for index, field in mapping.items() if index < len(cells)}
            raw = {k: v for k, v in raw.items() if not (k not in ("id", "record_type", "text") and v == "")}
            yield row, build_record(raw, name, row)


def csv_reader(handle: io.TextIOWrapper) -> Any:
    """A strict CSV reader over an open text file: tab-separated if its first line has more tabs
    than commas (Excel's "Unicode text"), else comma-separated. Raises UnicodeDecodeError."""
    sample = handle.read(8192)
    handle.seek(0)
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    return (_repaired(cells) for cells in csv.reader(handle, delimiter=delimiter, strict=True))


def _repaired(cells: list[str]) -> list[str]:
    return [repair(cell) for cell in cells]


# A cell may be longer than the csv module's default limit (131,072 characters): the record model,
# not the parser, refuses a text over MAX_TEXT_CHARS, so that only that row is refused.
csv.field_size_limit(max(csv.field_size_limit(), 8 * MAX_TEXT_CHARS))


def _read_xlsx(path: Path, name: str) -> Iterator[tuple[int, Record]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a broken archive
        raise InputError(name, "not a readable XLSX workbook") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        try:
            headers = next(rows)
        except StopIteration:
            raise InputError(name, "workbook's first sheet is empty") from None
        mapping = map_headers(headers, name)
        for row_number, cells in enumerate(rows, start=2):
            if not any(cell not in (None, "") for cell in cells):
                continue
            raw = {field: cells[index] for index, field in mapping.items() if index < len(cells)}
            raw = {k: v for k, v in raw.items() if not (k not in ("id", "record_type", "text") and v in (None, ""))}
            if raw.get("text") is None:
                raw["text"] = ""
            yield row_number, build_record(raw, name, row_number)
    finally:
        workbook.close()


def _decoded_lines(handle: io.TextIOWrapper, name: str) -> Iterator[tuple[int, str]]:
    line_number = 0
    while True:
        try:
            line = handle.readline()
        except UnicodeDecodeError:  # UTF-16 only: UTF-8 files are read with surrogateescape
            raise InputError(name, "is not valid text in its encoding", row=line_number + 1) from None
        if not line:
            return
        line_number += 1
        yield line_number, repair(line)


_STRAY = re.compile("[\udc80-\udcff]")


def repair(text: str) -> str:
    """Text read as UTF-8 with surrogateescape, with any part that was not UTF-8 read as cp1252
    instead: a cell (or JSONL line) at a time, so that a cp1252 export, a UTF-8 export with a few
    cp1252 cells pasted in, and a clean UTF-8 export are each read as written."""
    if _STRAY.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("cp1252", "replace")


def _open_text(path: Path, name: str) -> io.TextIOWrapper:
    """Open as Excel saves text: UTF-16 with a BOM (or without, as some exporters write it), else
    UTF-8 with or without a BOM, where any cell that is not UTF-8 is read as cp1252 (`repair`)."""
    with path.open("rb") as probe:
        head = probe.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, errors = "utf-16", "strict"
    elif len(head) >= 4 and head[1] == 0 and head[3] == 0:
        encoding, errors = "utf-16-le", "strict"  # BOM-less UTF-16 from some exporters
    else:
        encoding, errors = "utf-8-sig", "surrogateescape"
    try:
        return path.open("r", encoding=encoding, errors=errors, newline="")
    except OSError as exc:
        raise InputError(name, f"cannot be opened ({exc.strerror})") from None
