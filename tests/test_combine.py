"""Rules and model together: a model finding says it is one, with its probability and the words
that pushed it; a rule finding the model strongly contradicts is withdrawn; and the engine's
combination is the one `auditor evaluate` measures."""

from __future__ import annotations

from dataclasses import replace

from auditor.classifier import Combination, load
from auditor.engine import Auditor
from auditor.records import Record

MODELS = load()


def _with(combinations: dict[str, Combination]) -> Auditor:
    return Auditor(models=replace(MODELS, combinations={**MODELS.combinations, **combinations}))


def test_a_model_finding_says_so_with_probability_and_words() -> None:
    # The model always adds vague_action (add=0); the rules stay silent on this concrete-sounding aim.
    auditor = _with({"vague_action": Combination(confirm=0.0, add=0.0, model_only=0.5)})
    text = "Actions\n- Parents to demonstrate that they can meet the children's needs by 30.4.21."
    result = auditor.audit(Record(id="p", record_type="plan", plan_type="cin", text=text))
    found = [f for f in result.findings if f.category.value == "vague_action"]
    assert found and all(f.source == f"model:actions@{MODELS.version}" for f in found)
    finding = found[0]
    assert "Found by model:actions@" in finding.message and "probability" in finding.message
    assert finding.explanation.startswith("probability") and "'" in finding.explanation
    assert text[finding.start : finding.end] == finding.text


def test_a_strongly_contradicted_rule_finding_is_withdrawn() -> None:
    text = "Actions\n- Mum to attend the Freedom Programme."
    record = Record(id="p", record_type="plan", plan_type="cp", text=text)
    never = Combination(confirm=1.01, add=1.01, model_only=0.5)  # the model disagrees with everything
    always_confirm = Combination(confirm=0.0, add=1.01, model_only=0.5)
    assert "TS001" in {f.rule_id for f in _with({"missing_timescale": always_confirm}).audit(record).findings}
    assert "TS001" not in {f.rule_id for f in _with({"missing_timescale": never}).audit(record).findings}


def test_contingencies_and_prohibitions_are_judged_only_for_vagueness() -> None:
    # With every threshold at 0 the model would report every category on every line it reads:
    # it reads the contingency and the prohibition for vague_action and vague_timescale only, and
    # never reads history.
    everything = Combination(confirm=0.0, add=0.0, model_only=0.5)
    auditor = _with({c: everything for c in ("vague_action", "vague_timescale", "missing_owner", "missing_timescale")})
    lines = [
        "SW to visit Child A weekly.",
        "If Mum does not engage, the SW will continue to monitor.",
        "Dad not to have unsupervised contact with the children.",
        "SW visited on 3.3.21 and saw Child A alone.",
    ]
    text = "Actions\n" + "".join(f"- {line}\n" for line in lines)
    findings = auditor.audit(Record(id="p", record_type="plan", plan_type="cp", text=text)).findings
    by_model: dict[str, set[str]] = {}
    for f in findings:
        if f.source.startswith("model:"):
            by_model.setdefault(f.category.value, set()).add(f.text.strip().rstrip("."))
    said = [line.rstrip(".") for line in lines]
    assert by_model["vague_action"] == by_model["vague_timescale"] == set(said[:3])
    assert by_model["missing_owner"] == by_model["missing_timescale"] == {said[0]}


def test_without_a_model_only_rules_speak() -> None:
    text = "Actions\n- Parents to demonstrate that they can meet the children's needs by 30.4.21."
    result = Auditor(models=None).audit(Record(id="p", record_type="plan", plan_type="cin", text=text))
    assert all(f.source.startswith("rule:") for f in result.findings)


def test_batches_give_the_same_results_as_single_records() -> None:
    auditor = Auditor()
    records = [
        Record(id=f"r{n}", record_type=kind, text=text)
        for n, (kind, text) in enumerate(
            [
                ("plan", "Actions\n- Mum to engage with services.\n- SW to visit weekly."),
                ("decision", "Assessment extended by 2 weeks."),
                ("review", "IRO escalated the delay. If Mum does not attend, PLO."),
                ("supervision", "Decision: case to close. Actions: SW to close the file."),
            ]
        )
    ]
    assert list(auditor.audit_many(records, batch_size=3)) == [auditor.audit(r) for r in records]


def test_the_decision_model_reads_decision_language_the_rules_miss_but_not_case_note_narrative() -> None:
    from auditor.combine import model_paragraphs

    auditor = Auditor(models=None)
    text = "Adjourn - reconvene 2 weeks.\n\nMum and Child A were seen at home."
    decision = Record(id="d", record_type="decision", text=text)
    note = Record(id="n", record_type="case_note", text=text + "\n\nDecision: case to close.")
    assert model_paragraphs(decision, auditor.parse(decision)) == [(0, 28), (30, len(text))]
    read = model_paragraphs(note, auditor.parse(note))
    assert [note.text[s:e] for s, e in read] == ["Decision: case to close."]
    plan = Record(id="p", record_type="plan", plan_type="cp", text=text)
    assert model_paragraphs(plan, auditor.parse(plan)) == []


def test_the_shipped_combinations_respect_how_far_the_model_may_withdraw_a_rule() -> None:
    from auditor.evaluation import MAX_CONFIRM, MODEL_DECIDES

    for category, combination in MODELS.combinations.items():
        assert combination.confirm <= min(combination.add, MAX_CONFIRM[category])
        if category in MODEL_DECIDES:
            assert combination.confirm == combination.add == combination.model_only, category


def test_thresholds_are_chosen_so_that_a_rule_lowers_the_bar_only_as_far_as_allowed() -> None:
    import numpy as np

    from auditor.evaluation import _choose

    # Rule fired: positives at p 0.5, negatives at 0.3. Rule silent: positives at 0.9, negatives
    # at 0.6. Only "confirm in (0.3, 0.5], add in (0.6, 0.9]" gets every item right.
    p = np.array([0.5, 0.5, 0.3, 0.3, 0.9, 0.9, 0.6, 0.6])
    gold = [1, 1, 0, 0, 1, 1, 0, 0]
    rule = [True, True, True, True, False, False, False, False]
    gate = [True] * len(gold)
    free = _choose(gold, rule, p, gate, max_confirm=1.0)
    assert 0.3 < free.confirm <= 0.5 < 0.6 < free.add <= 0.9
    assert [free.decide(r, x) for r, x in zip(rule, p, strict=True)] == [bool(g) for g in gold]
    capped = _choose(gold, rule, p, gate, max_confirm=0.15)
    assert capped.confirm <= 0.15
    assert [capped.decide(r, x) for r, x in zip(rule, p, strict=True)] != [bool(g) for g in gold]
    alone = _choose(gold, rule, p, gate, max_confirm=1.0, model_decides=True)
    assert alone.confirm == alone.add == alone.model_only == free.model_only


def test_a_decision_finding_names_what_made_it_an_extension_and_what_told_against_a_reason() -> None:
    # The decision categories come from two models (an extension, a recorded reason): the words a
    # finding names come from both, the extension's first.
    from auditor.classifier import Scorer
    from auditor.features import as_words

    auditor = _with({"extension_without_rationale": Combination(confirm=0.0, add=0.0, model_only=0.5)})
    text = "Adjourn - reconvene 2 weeks, as agreed with the chair."
    result = auditor.audit(Record(id="d", record_type="decision", text=text))
    found = [f for f in result.findings if f.source == f"model:decisions@{MODELS.version}"]
    assert len(found) == 1 and found[0].category.value == "extension_without_rationale"
    named = [w.strip("'") for w in found[0].explanation.split("words: ", 1)[1].split("', '")]
    words = as_words([text])[0]
    extension = Scorer.of(MODELS.decisions).explain(words, 1)
    unreasoned = Scorer.of(MODELS.rationale).explain(words, 0, against=True)
    reasoned = Scorer.of(MODELS.rationale).explain(words, 0)
    assert named[0] == extension[0]
    assert set(named) & set(unreasoned) and not set(named) & (set(reasoned) - set(extension))
    assert len(named) == len(set(named)) <= 5


def test_explanations_never_name_personal_data() -> None:
    # The model always adds vague_action here, so its explanation is written; the action holds a
    # name after a title and a phone number, which the finding's text masks and the explanation
    # must not spell out either (not even as character sequences).
    auditor = _with({"vague_action": Combination(confirm=0.0, add=0.0, model_only=0.5)})
    text = "Actions\n- Mum to phone Mrs Kayleigh on 07700 900123 and meet the children's needs."
    result = auditor.audit(Record(id="p", record_type="plan", plan_type="cin", text=text))
    found = [f for f in result.findings if f.source.startswith("model:") and f.category.value == "vague_action"]
    assert found
    rest = "mum to phone mrs on and meet the children 's needs . -"  # the words that are not personal data
    for finding in found:
        named = finding.explanation.split("words: ", 1)[1]
        assert "kayleigh" not in named.lower() and "07700" not in named and "900123" not in named
        for item in named.split("', '"):
            item = item.strip("'").strip("…")
            shape = set(item) <= set("dx.-/: ")
            assert shape or all(part in rest for part in item.split()), item


def test_a_rules_only_run_never_imports_scikit_learn() -> None:
    # scikit-learn takes about a second to import; `--no-model` and AUDITOR_MODEL=off skip it.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from auditor.engine import Auditor\n"
        "from auditor.records import Record\n"
        "Auditor(models=None).audit(Record(id='p', record_type='plan', plan_type='cp', text='Mum to attend.'))\n"
        "print('sklearn' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
