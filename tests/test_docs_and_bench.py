"""The README stays true to the rule catalogue, and the benchmark runs and reports its figures
(the figures themselves are measured by `auditor bench`, never asserted by a timed test)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from auditor.bench import measure, run
from auditor.rulebook import RuleBook

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_rule_with_its_name_and_category() -> None:
    for rule in RuleBook.load():
        row = next((line for line in README.splitlines() if line.startswith(f"| {rule.id} |")), None)
        assert row is not None, f"README has no row for {rule.id}"
        assert rule.name in row and rule.category.value in row and rule.severity.value in row


def test_readme_states_the_jsonl_contract() -> None:
    assert '"id", "score", "grade", "findings"' in README
    assert '"rule_id", "category", "severity", "start", "end",' in README


def test_benchmark_measures_both_sides_on_the_same_corpus() -> None:
    result = measure(words=3000, repeats=1)
    assert result["words"] is not None and result["words"] >= 3000
    # What each side counted as it ran, not what it was given: the same records and words.
    assert result["tokenize_records"] == result["audit_records"] == result["records"]
    assert result["tokenize_words"] == result["audit_words"] == result["words"]
    if result["model_ratio"] is not None:
        assert result["model_audit_records"] == result["records"] and result["model_audit_words"] == result["words"]
    tokenize, audit, ratio = result["tokenize_words_per_second"], result["audit_words_per_second"], result["ratio"]
    assert tokenize is not None and audit is not None and ratio is not None
    assert tokenize > 0 and audit > 0
    assert abs(ratio - audit / tokenize) < 1e-9
    out = io.StringIO()
    run(words=3000, repeats=1, out=out)
    assert "ratio audit/tokenize, rules only" in out.getvalue()
    assert json.loads(out.getvalue().splitlines()[-1])["records"] > 0


def test_benchmark_without_a_model_reports_the_model_as_not_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_MODEL", "off")
    out = io.StringIO()
    result = run(words=500, repeats=1, out=out)
    model_keys = [k for k in result if k.startswith("model_")]
    assert model_keys and all(result[k] is None for k in model_keys)
    assert "with model : not measured" in out.getvalue() and "ratio audit/tokenize, with model" not in out.getvalue()
    figures = json.loads(out.getvalue().splitlines()[-1])
    assert list(figures) == list(result) and figures["model_ratio"] is None
