"""The README stays true to the rule catalogue, and the benchmark runs and reports its figures
(the figures themselves are measured by `auditor bench`, never asserted by a timed test)."""

from __future__ import annotations

import io
import json
from pathlib import Path

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
    assert result["words"] >= 3000
    assert result["tokenize_words_per_second"] > 0 and result["audit_words_per_second"] > 0
    assert abs(result["ratio"] - result["audit_words_per_second"] / result["tokenize_words_per_second"]) < 1e-9
    out = io.StringIO()
    run(words=3000, repeats=1, out=out)
    assert "ratio audit/tokenize, rules only" in out.getvalue()
    assert json.loads(out.getvalue().splitlines()[-1])["records"] > 0
