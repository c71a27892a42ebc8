"""The labelled corpus (sample_records/corpus/): plan actions and decision entries, labelled by
hand under GUIDELINES.md, and their fixed train/dev/test split.

The split is a committed file, `split.json`. Items are assigned by a hash of their id, so the
assignment never depends on file order, and the test split is frozen: adding items later puts
them in train or dev only, never in test (see `assign_split`), with one exception: a part named
in `HELD_OUT_PARTS` was written as a test set, after the model existed, and goes to test whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor.records import PlanType, RecordType

ACTION_LABELS = ("vague_action", "missing_owner", "missing_timescale", "vague_timescale")
Split = Literal["train", "dev", "test"]

# Whole parts written as a held-out test set after model 1.0 existed (decision entries,
# 2026-11-23: the test split's first decision entries were only 94, with 13 extensions lacking a
# reason). Each was written by one annotator and labelled blind by a second; every item goes to
# test, frozen when the part was added, and nothing is chosen on it (model 1.0 was measured on it
# once, then 1.1 was chosen on train and dev alone). A new part joins this set only when it is
# written, never after a model has been measured on it.
HELD_OUT_PARTS = frozenset({"D9", "D10", "D11"})


def part_of(item_id: str) -> str:
    """The corpus part an item comes from: "D9" for "D9-0001"."""
    return item_id.partition("-")[0]


def held_out(item_id: str) -> bool:
    """Whether an item comes from a part written as a held-out test set (`HELD_OUT_PARTS`)."""
    return part_of(item_id) in HELD_OUT_PARTS


def part_names(ids: Iterable[str]) -> str:
    """The parts these items come from, in the order they were written: "D1, D2"."""
    return ", ".join(sorted({part_of(i) for i in ids}, key=lambda part: (part[0], int(part[1:]))))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionLabels(_Strict):
    vague_action: Literal[0, 1]
    missing_owner: Literal[0, 1]
    missing_timescale: Literal[0, 1]
    vague_timescale: Literal[0, 1]


class DecisionLabels(_Strict):
    is_decision: Literal[0, 1]
    is_extension: Literal[0, 1]
    rationale_present: Literal[0, 1]


class ActionItem(_Strict):
    id: str = Field(pattern=r"^A\d+-\d{4}$")
    plan_type: PlanType
    text: str = Field(min_length=1)
    labels: ActionLabels
    source: Literal["handwritten", "template"]
    recorded_at: str | None = None


class DecisionItem(_Strict):
    id: str = Field(pattern=r"^D\d+-\d{4}$")
    record_type: RecordType
    text: str = Field(min_length=1)
    labels: DecisionLabels
    source: Literal["handwritten", "template"]

    @property
    def extension_without_rationale(self) -> int:
        labels = self.labels
        return int(labels.is_decision == 1 and labels.is_extension == 1 and labels.rationale_present == 0)

    @property
    def decision_without_rationale(self) -> int:
        labels = self.labels
        return int(labels.is_decision == 1 and labels.is_extension == 0 and labels.rationale_present == 0)


@dataclass(frozen=True)
class CorpusError(Exception):
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.message}"


def corpus_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "sample_records" / "corpus"


def _load(paths: Iterable[Path], model: type[ActionItem] | type[DecisionItem]) -> list[ActionItem | DecisionItem]:
    items: list[ActionItem | DecisionItem] = []
    seen: set[str] = set()
    for path in sorted(paths):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = model.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise CorpusError(path.name, number, exc.__class__.__name__) from None
            if item.id in seen:
                raise CorpusError(path.name, number, f"duplicate id {item.id}")
            seen.add(item.id)
            items.append(item)
    return items


def load_actions(directory: Path | None = None) -> list[ActionItem]:
    items = _load((directory or corpus_dir()).glob("actions-*.jsonl"), ActionItem)
    return [i for i in items if isinstance(i, ActionItem)]


def load_decisions(directory: Path | None = None) -> list[DecisionItem]:
    items = _load((directory or corpus_dir()).glob("decisions-*.jsonl"), DecisionItem)
    return [i for i in items if isinstance(i, DecisionItem)]


def assign_split(item_id: str) -> Split:
    """70% train, 15% dev, 15% test, by a hash of the id (stable, independent of file order)."""
    bucket = int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % 100
    if bucket < 70:
        return "train"
    return "dev" if bucket < 85 else "test"


def load_split(directory: Path | None = None) -> dict[str, Split]:
    """id -> split, from the committed split.json."""
    path = (directory or corpus_dir()) / "split.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {item_id: split for split in ("train", "dev", "test") for item_id in raw[split]}


def write_split(ids: Iterable[str], directory: Path | None = None) -> Path:
    """Write split.json for these ids. Existing test ids stay in test, and no new id joins test
    unless its part is one of `HELD_OUT_PARTS`, which go to test whole."""
    path = (directory or corpus_dir()) / "split.json"
    existing = load_split(directory) if path.exists() else {}
    split: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for item_id in sorted(set(ids)):
        if item_id in existing:
            chosen = existing[item_id]
        elif part_of(item_id) in HELD_OUT_PARTS:
            chosen = "test"
        else:
            chosen = assign_split(item_id)
            if chosen == "test" and existing:
                chosen = "dev"  # the test split is frozen once written
        split[chosen].append(item_id)
    path.write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    return path


def frozen_test_digest(split: dict[str, Split]) -> str:
    """A fingerprint of the frozen test split, recorded in the model card and checked by tests."""
    test_ids = sorted(i for i, s in split.items() if s == "test")
    return hashlib.sha256("\n".join(test_ids).encode()).hexdigest()[:16]
