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
    """Tokenization alone, the rules alone, and rules with the classifier, on one corpus."""
    records = corpus(words)
    texts = [r.text for r in records]
    word_count = sum(len(t.split()) for t in texts)
    rules_only = Auditor(models=None)
    with_model = Auditor()  # the shipped classifier, if there is one
    tokenizer = spacy.blank("en").tokenizer

    def tokenize() -> None:
        for text in texts:
            tokenizer(text)

    def audit(auditor: Auditor) -> Callable[[], None]:
        def run_all() -> None:
            for _result in auditor.audit_many(records):
                pass

        return run_all

    warm = records[: max(1, len(records) // 20)]
    for auditor in (rules_only, with_model):  # warm caches (regex compilation, holidays) before timing
        list(auditor.audit_many(warm))
    # Interleave the measurements so that load on this shared machine affects all alike.
    token_seconds = rules_seconds = model_seconds = float("inf")
    for _ in range(repeats):
        token_seconds = min(token_seconds, _best(1, tokenize))
        rules_seconds = min(rules_seconds, _best(1, audit(rules_only)))
        model_seconds = min(model_seconds, _best(1, audit(with_model)))
    result = {
        "records": len(records),
        "words": word_count,
        "tokenize_words_per_second": word_count / token_seconds,
        "audit_words_per_second": word_count / rules_seconds,
        "audit_records_per_second": len(records) / rules_seconds,
        "ratio": token_seconds / rules_seconds,
    }
    if with_model.models is not None:
        result |= {
            "model_audit_words_per_second": word_count / model_seconds,
            "model_audit_records_per_second": len(records) / model_seconds,
            "model_ratio": token_seconds / model_seconds,
        }
    return result


def run(words: int, repeats: int, out: TextIO) -> dict[str, float]:
    result = measure(words, repeats)
    out.write(
        f"auditor {__version__}, spaCy {spacy.about.__version__}, Python {platform.python_version()}, one process\n"
    )
    out.write(f"corpus: {result['records']:.0f} records, {result['words']:.0f} words (sample records, repeated)\n")
    out.write(f"tokenization only : {result['tokenize_words_per_second']:>10,.0f} words/s\n")
    setups = [("rules only", "audit_words_per_second", "audit_records_per_second", "ratio")]
    if "model_ratio" in result:
        setups.append(("with model", "model_audit_words_per_second", "model_audit_records_per_second", "model_ratio"))
    for name, words_key, records_key, ratio_key in setups:
        out.write(f"audit, {name:<10} : {result[words_key]:>10,.0f} words/s ({result[records_key]:,.0f} records/s)\n")
        verdict = "meets" if result[ratio_key] >= TARGET_RATIO else "MISSES"
        out.write(f"ratio audit/tokenize, {name}: {result[ratio_key]:.2f} ({verdict} the {TARGET_RATIO:.2f} target)\n")
    out.write(json.dumps({k: round(v, 3) for k, v in result.items()}) + "\n")
    return result
