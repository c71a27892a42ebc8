"""Scores and grades by the documented formula, scoring configuration, and the spaCy pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from auditor import features, pipeline
from auditor.engine import Auditor
from auditor.findings import Category, Finding, Grade, Severity
from auditor.records import Record, RecordType
from auditor.scoring import ScoringConfig, grade, score


def _finding(rule_id: str, severity: Severity) -> Finding:
    return Finding(rule_id, Category.missing_timescale, severity, 0, 1, "x", "m", "s", "c", f"rule:{rule_id}")


def test_each_finding_deducts_its_weight_and_each_rule_is_capped() -> None:
    config = ScoringConfig()
    assert score([], config) == (100, Grade.outstanding)
    assert score([_finding("A", Severity.low)], config) == (98, Grade.outstanding)
    assert score([_finding("A", Severity.high)] * 2 + [_finding("B", Severity.medium)], config) == (75, Grade.good)
    # Twelve undated actions deduct the cap (30), not 120.
    assert score([_finding("A", Severity.high)] * 12, config)[0] == 70
    many = [_finding(rule, Severity.high) for rule in "ABCD" for _ in range(3)]
    assert score(many, config) == (0, Grade.inadequate)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, Grade.outstanding), (90, Grade.outstanding), (89, Grade.good), (75, Grade.good), (74, Grade.requires_improvement),
     (50, Grade.requires_improvement), (49, Grade.inadequate), (0, Grade.inadequate)],
)  # fmt: skip
def test_grade_thresholds(value: int, expected: Grade) -> None:
    assert grade(value, ScoringConfig()) is expected


def test_scoring_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "scoring.yaml"
    path.write_text("weights: {high: 20, medium: 5, low: 1}\nrule_cap: 40\ngood: 80\n")
    config = ScoringConfig.from_file(path)
    assert score([_finding("A", Severity.high)] * 3, config)[0] == 60
    path.write_text("good: 95\n")
    with pytest.raises(ValueError, match="thresholds must fall"):
        ScoringConfig.from_file(path)
    path.write_text("weights: {high: 20}\n")
    with pytest.raises(ValueError, match="weights"):
        ScoringConfig.from_file(path)
    path.write_text("colour: red\n")
    with pytest.raises(ValueError, match="colour"):
        ScoringConfig.from_file(path)


def test_default_pipeline_is_blank_english_plus_our_components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_SPACY_MODEL", raising=False)

    def no_pretrained(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a pretrained pipeline was loaded: {args}")

    monkeypatch.setattr(spacy, "load", no_pretrained)  # what pipeline.build calls for a named one
    nlp = pipeline.build()
    assert nlp.lang == "en"
    # spacy.blank's meta: a pretrained pipeline is named (core_web_sm...) and may carry vectors.
    assert (nlp.meta["lang"], nlp.meta["name"]) == ("en", "pipeline")
    assert nlp.vocab.vectors.shape == (0, 0) and nlp.meta["vectors"]["vectors"] == 0
    # component_names includes disabled components: nothing but ours, not even a disabled ner.
    assert nlp.pipe_names == list(pipeline.COMPONENTS)
    assert nlp.component_names == list(pipeline.COMPONENTS) and nlp.disabled == []


def _texts() -> list[str]:
    root = Path(__file__).resolve().parent.parent / "sample_records"
    paths = [root / "records.jsonl", *sorted((root / "corpus").glob("*.jsonl"))]
    return [json.loads(line)["text"] for path in paths for line in path.read_text("utf-8").splitlines() if line]


def test_the_tokenizer_splits_exactly_as_spacys_english_without_the_whitespace_special_cases() -> None:
    """The lone newline, tab and space are not special cases (they stopped spaCy caching the rest
    of each text), and the tokens are unchanged for every sample and corpus text and for runs of
    whitespace of every kind."""
    ours, english = pipeline.build().tokenizer, spacy.blank("en").tokenizer
    assert not set(pipeline.WHITESPACE_SPECIAL_CASES) & set(ours.rules)  # type: ignore[attr-defined]
    awkward = [
        "SW to visit\nweekly.\n\nTM to review",
        "a  b \n c\t\td\r\ne \u00a0f\n",
        " \n\t leading and trailing \t\n ",
        "Mum's  GP\nappt w/c 12.03.24 - don't\tmiss it",
    ]
    texts = _texts() + awkward
    assert len(texts) > 3_000
    for text in texts:
        for _ in range(2):  # the second pass is answered from the tokenizer's cache
            assert [(t.text, t.whitespace_) for t in ours(text)] == [(t.text, t.whitespace_) for t in english(text)]


def test_a_named_pipeline_that_is_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_SPACY_MODEL", "en_no_such_pipeline")
    with pytest.raises(ValueError, match="not installed"):
        pipeline.build()


def test_only_the_components_a_record_needs_run() -> None:
    auditor = Auditor()
    decision = auditor.parse(Record(id="d", record_type="decision", text="Extension agreed. SW off sick."))
    assert decision._.decisions and decision._.units is None and decision._.timescales is None
    plan = auditor.parse(Record(id="p", record_type="plan", text="SW to visit weekly."))
    assert plan._.units and plan._.timescales and plan._.decisions is None
    assert plan._.personal_data == [] and decision._.personal_data == []


@pytest.mark.parametrize("models", ["shipped", None], ids=["model-on", "model-off"])
def test_one_doc_per_record(monkeypatch: pytest.MonkeyPatch, models: str | None) -> None:
    auditor = Auditor(models=models)  # type: ignore[arg-type]
    assert (auditor.models is None) == (models is None)
    made: list[str] = []
    make_doc = pipeline.make_doc

    def counting(nlp, record, components=None):  # type: ignore[no-untyped-def]
        made.append(record.id)
        return make_doc(nlp, record, components)

    monkeypatch.setattr(pipeline, "make_doc", counting)
    tokenized: list[str] = []
    tokenizer = auditor.nlp.tokenizer

    def counting_tokenizer(text):  # type: ignore[no-untyped-def]
        tokenized.append(text)
        return tokenizer(text)

    auditor.nlp.tokenizer = counting_tokenizer

    def second_doc() -> None:
        raise AssertionError("the model tokenized a text again instead of reading the record's Doc")

    monkeypatch.setattr(features, "_tokenizer", second_doc)
    texts = [
        ("plan", "SW to visit weekly. Mum to engage with services. If Mum does not attend, PLO."),
        ("decision", "Extension agreed. Case closed."),
        ("review", "IRO escalated to the TM. SDQ 19. Child said she wants to stay at school."),
        ("case_note", "Home visit. Dad at home."),
        ("plan", "Parents to attend parenting course by 30.6.21."),
    ]
    records = [Record(id=f"r{i}", record_type=RecordType(kind), text=text) for i, (kind, text) in enumerate(texts)]
    results = list(auditor.audit_many(records, batch_size=2))
    assert [r.id for r in results] == [r.id for r in records]
    assert made == [r.id for r in records]
    assert tokenized == [r.text for r in records]


def test_a_doc_of_only_the_needed_components_gives_the_same_findings_as_a_full_pipeline() -> None:
    auditor = Auditor()
    record = Record(id="p", record_type="review", text="IRO escalated to the TM. If Mum does not attend, PLO. SDQ 19.")
    full = pipeline.make_doc(auditor.nlp, record)
    assert auditor.findings(full, record) == auditor.findings(auditor.parse(record), record)
