"""Reading an export through a column-mapping profile, a chunk of rows at a time (issue 6).

`read_chunks(path, profile)` reads CSV (or tab-separated text), XLSX, JSONL and Parquet and
yields lists of `Row`s: each a record, or the reason the row cannot be one (it is quarantined
and the run goes on). A header row the profile cannot account for is a `TableError` before any
row is read, with every data-quality problem of it. Nothing here repeats a cell's content: a
reason names the file, the row, the record id and the field.

Memory does not grow with the file: CSV and JSONL are read line by line, XLSX in openpyxl's
read-only mode, Parquet a record batch at a time.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.profiles import ColumnMap, DataQuality, Profile
from auditor.records import (
    InputError,
    Record,
    _decoded_lines,
    _open_text,
    build_record,
    csv_reader,
    quotable_id,
)

CHUNK_ROWS = 1000


@dataclass(frozen=True)
class Row:
    """One row of an export: its record, or the problem that keeps it from being one (located by
    file, row, record id and field, as the readers of `auditor check` locate theirs)."""

    file: str
    row: int  # the spreadsheet's row (header = 1), the JSONL line, or the Parquet row + 1
    record: Record | None = None
    problem: InputError | None = None

    @property
    def record_id(self) -> str | None:
        return self.record.id if self.record is not None else self.problem.record_id if self.problem else None

    @property
    def field(self) -> str | None:
        return self.problem.field if self.problem else None

    @property
    def reason(self) -> str | None:
        return self.problem.message if self.problem else None

    def __str__(self) -> str:
        return str(self.problem) if self.problem else f"{self.file}, row {self.row}: read"


class TableError(Exception):
    """A file that cannot be read at all: missing, not the format it claims, or a header row with
    data-quality problems (all of them, in `problems`)."""

    def __init__(
        self, file: str, message: str, problems: list[DataQuality] | None = None, row: int | None = None
    ) -> None:
        self.file, self.message, self.problems, self.row = file, message, problems or [], row
        details = "".join(f"\n  {p}" for p in self.problems)
        super().__init__(f"{file}: {message}{details}")


SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".parquet")


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """The inputs, with each folder replaced by the files in it that can be read, by name (not
    its subfolders, nor hidden files), each file once. An empty folder is a TableError."""
    expanded: list[Path] = []
    for path in paths:
        if not path.is_dir():
            expanded.append(path)
            continue
        found = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        )
        if not found:
            raise TableError(str(path), f"the folder holds no file to read ({', '.join(SUFFIXES)})")
        expanded += found
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in expanded:  # a file named twice (itself, and in its folder) is read once
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique


def read_chunks(path: str | Path, profile: Profile, chunk_rows: int = CHUNK_ROWS) -> Generator[list[Row]]:
    """The file's rows through `profile`, `chunk_rows` at a time, in file order."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise TableError(name, "no such file" if not path.exists() else "is not a file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        rows = _csv_rows(path, name, profile)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path, name, profile)
    elif suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(path, name, profile)
    elif suffix == ".parquet":
        rows = _parquet_rows(path, name, profile, chunk_rows)
    else:
        raise TableError(name, "unsupported file type (use .csv, .tsv, .xlsx, .jsonl or .parquet)")
    chunk: list[Row] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
    except TableError:
        if chunk:  # the rows read before the file broke are whole: they come first
            yield chunk
        raise
    if chunk:
        yield chunk


def _columns(profile: Profile, headers: Iterable[object], name: str) -> ColumnMap:
    columns = profile.map_columns(headers, name)
    if columns.problems:
        raise TableError(name, f"{len(columns.problems)} problem(s) with the header row", columns.problems)
    return columns


def row_of(profile: Profile, columns: ColumnMap, cells: list[Any], name: str, number: int) -> Row:
    """One data row's record, or its problem (shared with the Spark job, auditor/spark.py)."""
    raw = profile.raw_record(cells, columns)
    if len(cells) > columns.width:
        problem = InputError(
            name, f"has {len(cells)} cells; the header has {columns.width}", number, quotable_id(raw.get("id"))
        )
        return Row(name, number, problem=problem)
    raw.setdefault("text", "")  # an empty text cell: a record with nothing in it, which the audit says
    try:
        return Row(name, number, record=build_record(raw, name, number))
    except InputError as problem:
        return Row(name, number, problem=problem)


def _csv_rows(path: Path, name: str, profile: Profile) -> Iterator[Row]:
    with _open_text(path, name) as handle:
        try:
            reader = csv_reader(handle)
        except UnicodeDecodeError:
            raise TableError(name, "is not valid text in its encoding") from None
        try:
            headers = next(reader)
        except StopIteration:
            raise TableError(name, "the file is empty") from None
        except csv.Error:
            raise TableError(name, "the header row is not valid CSV") from None
        columns = _columns(profile, headers, name)
        number = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise TableError(name, f"row {number + 1} is not valid text in its encoding", row=number + 1) from None
            except csv.Error:
                # The reader cannot find the next row's start after a broken quote: stop, loudly.
                raise TableError(
                    name, f"row {number + 1} is malformed CSV (an unclosed quote?)", row=number + 1
                ) from None
            number += 1
            if any(cell.strip() for cell in cells):
                yield row_of(profile, columns, list(cells), name, number)


def _xlsx_rows(path: Path, name: str, profile: Profile) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken archive
        raise TableError(name, "is not a readable XLSX workbook") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        headers = next(rows, None)
        if headers is None:
            raise TableError(name, "the workbook's first sheet is empty")
        width = max((i + 1 for i, h in enumerate(headers) if h not in (None, "")), default=0)
        columns = _columns(profile, headers[:width], name)
        for number, cells in enumerate(rows, start=2):
            values = list(cells)
            while values and values[-1] in (None, ""):
                values.pop()  # openpyxl pads a row to the sheet's widest
            if values:
                yield row_of(profile, columns, values, name, number)
    finally:
        workbook.close()


def _jsonl_rows(path: Path, name: str, profile: Profile) -> Iterator[Row]:
    known: dict[tuple[str, ...], ColumnMap] = {}
    with _open_text(path, name) as handle:
        try:
            for number, line in _decoded_lines(handle, name):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    yield Row(name, number, problem=InputError(name, "is not valid JSON", number))
                    continue
                if not isinstance(item, dict):
                    yield Row(name, number, problem=InputError(name, "is not a JSON object", number))
                    continue
                # Each line names its own keys: they are a header row of their own (mapped once for
                # each set of keys: an export's lines almost always share one).
                keys = tuple(item)
                columns = known.get(keys) or known.setdefault(keys, profile.map_columns(list(keys), name))
                if columns.problems:
                    reason = "; ".join(p.problem for p in columns.problems)
                    yield Row(name, number, problem=InputError(name, reason, number))
                    continue
                yield row_of(profile, columns, list(item.values()), name, number)
        except InputError as error:  # undecodable bytes
            raise TableError(name, f"row {error.row}: {error.message}", row=error.row) from None


def _parquet_rows(path: Path, name: str, profile: Profile, chunk_rows: int) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception:  # pyarrow raises its own kinds for a file that is not Parquet
        raise TableError(name, "is not a readable Parquet file") from None
    headers = parquet.schema_arrow.names
    columns = _columns(profile, headers, name)
    wanted = sorted(columns.fields.values())
    number = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=[headers[i] for i in wanted]):
        values = {i: batch.column(n).to_pylist() for n, i in enumerate(wanted)}
        for position in range(batch.num_rows):
            number += 1
            cells: list[Any] = [None] * len(headers)
            for i in wanted:
                cells[i] = values[i][position]
            yield row_of(profile, columns, cells, name, number)
