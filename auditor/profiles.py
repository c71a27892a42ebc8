"""Column-mapping profiles (issue 6): how one system's export maps onto the record model.

A profile is a YAML file, one per kind of export (`profiles/` ships `generic` for a case-note
export and `annex-a` for Annex A and Standard Safeguarding Dataset headers):

    name: generic
    description: ...
    columns:           # record field -> header patterns
      id: ["record id", "case note id", "*note id"]
    values:            # value synonyms, per field (record_type and plan_type)
      record_type: {"home visit": case_note}
    defaults:          # a value for a field no column gives
      record_type: case_note
    ignore: ["gender", "date of birth"]   # columns known and deliberately not read

Headers and patterns are compared normalised: lower case, letters and digits only ("Case Note
ID" = "case_note_id" = "casenoteid"); `*` in a pattern matches any run of letters and digits.
Every column of an export must be mapped or ignored: an unknown one is a data-quality error
naming the file and the column, as is a required field with no column and no default, and two
columns for one field. Loading is strict: an unknown key or value stops it, naming the file, the
key and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from auditor.records import PlanType, Record, RecordType, normalise_key

FIELDS = tuple(Record.model_fields)
REQUIRED = ("id", "record_type", "text")
RecordField = Literal[
    "id",
    "record_type",
    "text",
    "plan_type",
    "recorded_at",
    "child_id",
    "team",
    "worker",
    "plan_start_date",
    "la_code",
]
_ALLOWED_VALUES = {"record_type": {t.value for t in RecordType}, "plan_type": {t.value for t in PlanType}}


def normalise(value: object) -> str:
    """A header or value as profiles compare it: lower case, letters and digits only (as the
    record readers compare theirs)."""
    return normalise_key(str(value or ""))


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile("".join("[a-z0-9]*" if part == "*" else re.escape(part) for part in _split(text)))


def _split(text: str) -> list[str]:
    """A pattern's pieces: each `*`, and the normalised text between them."""
    pieces: list[str] = []
    for index, chunk in enumerate(text.split("*")):
        if index:
            pieces.append("*")
        if normalise(chunk):
            pieces.append(normalise(chunk))
    return pieces


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    description: str = Field(min_length=10)
    columns: dict[RecordField, list[str]]
    values: dict[Literal["record_type", "plan_type"], dict[str, str]] = Field(default_factory=dict)
    defaults: dict[RecordField, str] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)

    @field_validator("columns")
    @classmethod
    def _patterns_mean_something(cls, columns: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, patterns in columns.items():
            if not patterns or any(not _split(p) or _split(p) == ["*"] for p in patterns):
                raise ValueError(f"{name}: each pattern needs letters or digits, and there must be one")
        return columns

    @model_validator(mode="after")
    def _complete(self) -> Profile:
        for name, synonyms in self.values.items():
            wrong = sorted({v for v in synonyms.values() if v not in _ALLOWED_VALUES[name]})
            if wrong:
                allowed = ", ".join(sorted(_ALLOWED_VALUES[name]))
                raise ValueError(f"values.{name}: {', '.join(wrong)} is not one of {allowed}")
        missing = [f for f in REQUIRED if f not in self.columns and f not in self.defaults]
        if missing:
            raise ValueError(f"no column patterns and no default for required field(s): {', '.join(missing)}")
        return self

    @cached_property
    def _matchers(self) -> tuple[list[tuple[re.Pattern[str], str | None]], list[tuple[re.Pattern[str], str | None]]]:
        """(exact, wildcard) patterns with their field (None: an ignored column)."""
        pairs: list[tuple[str, str | None]] = [(p, f) for f, patterns in self.columns.items() for p in patterns]
        pairs += [(p, None) for p in self.ignore]
        exact = [(_pattern(p), f) for p, f in pairs if "*" not in p]
        wild = [(_pattern(p), f) for p, f in pairs if "*" in p]
        return exact, wild

    def classify(self, header: object) -> tuple[Literal["field", "ignored", "unknown", "ambiguous"], str | None]:
        """What a header is: a field's column, an ignored one, unknown, or claimed by the wildcard
        patterns of two different fields (an exact pattern always wins over wildcards)."""
        key = normalise(header)
        for tier in self._matchers:
            outcomes = {name for pattern, name in tier if pattern.fullmatch(key)}
            if len(outcomes) == 1:
                name = outcomes.pop()
                return ("ignored", None) if name is None else ("field", name)
            if len(outcomes) > 1:
                return "ambiguous", ", ".join(sorted(o or "(ignored)" for o in outcomes))
        return "unknown", None

    def value(self, name: str, value: object) -> object:
        """A cell's value with the profile's synonyms applied (record_type and plan_type)."""
        synonyms = self._synonyms.get(name)
        if synonyms is None or not isinstance(value, str):
            return value
        return synonyms.get(normalise(value), value)

    @cached_property
    def _synonyms(self) -> dict[str, dict[str, str]]:
        return {name: {normalise(k): v for k, v in table.items()} for name, table in self.values.items()}

    def map_columns(self, headers: Iterable[object], file: str) -> ColumnMap:
        """Which column gives which field, and every data-quality problem of the header row."""
        found = ColumnMap(file=file)
        headers = list(headers)
        found.width = len(headers)
        for index, header in enumerate(headers):
            label = str(header) if header is not None else ""
            kind, name = self.classify(header)
            if kind == "unknown":
                # Named by its number only: an unknown "header" may be a cell of data (no header row).
                found.problems.append(
                    DataQuality(file, 1, index + 1, None, "unknown column (map it or ignore it in the profile)")
                )
            elif kind == "ambiguous":
                found.problems.append(DataQuality(file, 1, index + 1, None, f"matches the patterns of {name}"))
            elif name is None:
                found.ignored.append(label)
            elif name in found.fields:
                first = found.fields[name]
                found.problems.append(
                    DataQuality(file, 1, index + 1, label, f"a second column for {name!r} (first: column {first + 1})")
                )
            else:
                found.fields[name] = index
        if not found.fields and not found.ignored:
            # Nothing on the row is a header this profile knows: it is most likely the first row
            # of data (no header row), so its cells are not repeated.
            found.problems = [
                DataQuality(file, 1, None, None, "no column the profile knows: is the header row missing?")
            ]
            return found
        for name in REQUIRED:
            if name not in found.fields and name not in self.defaults:
                found.problems.append(DataQuality(file, 1, None, None, f"no column for required field {name!r}"))
        return found

    def raw_record(self, cells: list[object], columns: ColumnMap) -> dict[str, Any]:
        """One row's cells as the record model's fields: mapped, synonyms applied, defaults filled."""
        raw: dict[str, Any] = {name: value for name, value in self.defaults.items()}
        for name, index in columns.fields.items():
            cell = cells[index] if index < len(cells) else None
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            raw[name] = self.value(name, cell)
        return raw


@dataclass(frozen=True)
class DataQuality:
    """A problem with the data, located by file, row and column, never quoting a cell: the only
    header ever quoted is one the profile recognised (its own vocabulary, not the export's)."""

    file: str
    row: int | None
    column: int | None  # 1-based
    header: str | None
    problem: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}" + (f" ({self.header!r})" if self.header else ""))
        return f"{', '.join(where)}: {self.problem}"


@dataclass
class ColumnMap:
    file: str
    fields: dict[str, int] = field(default_factory=dict)  # record field -> 0-based column
    ignored: list[str] = field(default_factory=list)
    problems: list[DataQuality] = field(default_factory=list)
    width: int = 0  # the header row's columns: a data row with more cells is malformed


class ProfileError(Exception):
    """A profile that cannot be loaded: the file, the key and what is wrong or allowed."""

    def __init__(self, file: str, key: str | None, message: str) -> None:
        super().__init__(f"{file}:{f' key {key!r}:' if key else ''} {message}")
        self.file, self.key, self.message = file, key, message


def profiles_dir() -> Path:
    """The shipped profiles: inside the wheel, or the source tree's profiles/."""
    shipped = Path(__file__).resolve().parent / "_data" / "profiles"
    return shipped if shipped.is_dir() else Path(__file__).resolve().parent.parent / "profiles"


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (`generic`, `annex-a`), or a profile file by its path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = profiles_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ProfileError(
                str(name_or_path), None, f"no such profile file or shipped profile ({', '.join(shipped_profiles())})"
            )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ProfileError(str(path), None, f"cannot be read as YAML ({error.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise ProfileError(str(path), None, "must be a mapping of keys (name, description, columns, ...)")
    try:
        return Profile.model_validate(raw)
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"]) or None
        if first["type"] == "extra_forbidden":
            message = "is not a profile key (allowed: name, description, columns, values, defaults, ignore)"
        elif first["type"] == "literal_error":
            message = (
                f"must be one of: {', '.join(FIELDS)}"
                if key and key.split(".")[0] != "values"
                else ("must be record_type or plan_type")
            )
        else:
            message = first["msg"]
        raise ProfileError(str(path), key, message) from None
