"""Benchmark: words per second for spaCy tokenization alone and for the full audit, on the same
corpus, in one run and one process, reported as a ratio (these machines are shared and noisy, so
only a ratio measured in one run means anything).

The corpus is the sample records, repeated to the requested size, with each copy given its own id.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import spacy
import spacy.about

from auditor import __version__
from auditor.engine import Auditor
from auditor.records import Record, read_records

TARGET_RATIO = 0.25


def sample_corpus() -> list[Record]:
    path = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
    return list(read_records(path))


def corpus(words: int) -> list[Record]:
    base = sample_corpus()
    records: list[Record] = []
    total = 0
    copy = 0
    while total < words:
        for record in base:
            records.append(record.model_copy(update={"id": f"{record.id}#{copy}"}))
            total += len(record.text.split())
        copy += 1
    return records


def _best(repeats: int, work: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def measure(words: int = 200_000, repeats: int = 3) -> dict[str, float]:
    records = corpus(words)
    texts = [r.text for r in records]
    word_count = sum(len(t.split()) for t in texts)
    auditor = Auditor()
    tokenizer = spacy.blank("en").tokenizer

    def tokenize() -> None:
        for text in texts:
            tokenizer(text)

    def audit() -> None:
        for record in records:
            auditor.audit(record)

    audit_records = records[: max(1, len(records) // 20)]
    audit_records_words = sum(len(r.text.split()) for r in audit_records)
    for record in audit_records:  # warm caches (regex compilation, holidays) before timing
        auditor.audit(record)
    # Interleave the two measurements so that load on this shared machine affects both alike.
    token_seconds = audit_seconds = float("inf")
    for _ in range(repeats):
        token_seconds = min(token_seconds, _best(1, tokenize))
        audit_seconds = min(audit_seconds, _best(1, audit))
    return {
        "records": len(records),
        "words": word_count,
        "tokenize_words_per_second": word_count / token_seconds,
        "audit_words_per_second": word_count / audit_seconds,
        "audit_records_per_second": len(records) / audit_seconds,
        "ratio": token_seconds / audit_seconds,
        "warmup_words": audit_records_words,
    }


def run(words: int, repeats: int, out: TextIO) -> dict[str, float]:
    result = measure(words, repeats)
    out.write(
        f"auditor {__version__}, spaCy {spacy.about.__version__}, Python {platform.python_version()}, one process\n"
    )
    out.write(f"corpus: {result['records']:.0f} records, {result['words']:.0f} words (sample records, repeated)\n")
    out.write(f"tokenization only : {result['tokenize_words_per_second']:>10,.0f} words/s\n")
    out.write(
        f"full audit        : {result['audit_words_per_second']:>10,.0f} words/s ({result['audit_records_per_second']:,.0f} records/s)\n"
    )
    verdict = "meets" if result["ratio"] >= TARGET_RATIO else "MISSES"
    out.write(f"ratio audit/tokenize: {result['ratio']:.2f} ({verdict} the {TARGET_RATIO:.2f} target)\n")
    out.write(json.dumps({k: round(v, 3) for k, v in result.items()}) + "\n")
    return result
