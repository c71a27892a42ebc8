"""The shipped classifier: it loads with only the reviewed trusted types, predicts exactly what a
fresh training run predicts, reproduces its metrics, and meets what the model card claims."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer

from auditor.classifier import (
    DECISION_TARGETS,
    MODEL_VERSION,
    TRUSTED_TYPES,
    Scorer,
    build_pipeline,
    features_of,
    load,
    models_dir,
    probabilities,
    save,
)
from auditor.corpus import frozen_test_digest, load_actions, load_decisions, load_split
from auditor.evaluation import CATEGORIES, evaluate, train
from auditor.features import CharHasher, WordHasher

SHIPPED = load()


@pytest.fixture(scope="module")
def retrained():  # type: ignore[no-untyped-def]
    return train(seed=0)


def test_the_saved_model_predicts_exactly_what_training_produces(retrained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Saved with skops and loaded with the trusted types, a model predicts to the last bit what the
    # one trained in memory did.
    save(retrained, tmp_path)
    loaded = load(tmp_path)
    actions = [a.text for a in load_actions()]
    decisions = [d.text for d in load_decisions()]
    assert np.array_equal(probabilities(loaded.actions, actions), probabilities(retrained.actions, actions))
    assert np.array_equal(probabilities(loaded.decisions, decisions), probabilities(retrained.decisions, decisions))
    assert np.array_equal(probabilities(loaded.rationale, decisions), probabilities(retrained.rationale, decisions))
    assert loaded.combinations == retrained.combinations


def test_the_shipped_model_is_what_training_produces_on_this_machine(retrained) -> None:  # type: ignore[no-untyped-def]
    # Training is deterministic on one machine, but numpy's vector code differs between processors:
    # the shipped model (trained on an Intel Xeon) and one trained on an AMD EPYC differ by up to
    # 1.4e-4 in a probability. Its thresholds and its metrics (below) must still be the same.
    actions = [a.text for a in load_actions()]
    decisions = [d.text for d in load_decisions()]
    shipped, fresh = probabilities(SHIPPED.actions, actions), probabilities(retrained.actions, actions)
    assert np.allclose(shipped, fresh, rtol=0, atol=1e-3)
    shipped, fresh = probabilities(SHIPPED.decisions, decisions), probabilities(retrained.decisions, decisions)
    assert np.allclose(shipped, fresh, rtol=0, atol=1e-3)
    shipped, fresh = probabilities(SHIPPED.rationale, decisions), probabilities(retrained.rationale, decisions)
    assert np.allclose(shipped, fresh, rtol=0, atol=1e-3)
    assert SHIPPED.combinations == retrained.combinations


def test_the_engines_scorer_computes_exactly_what_scikit_learn_does() -> None:
    # The engine scores with plain arithmetic (Scorer); evaluation and training use scikit-learn.
    # The figures evaluate reports are only the engine's if the two agree to the last bit.
    for pipeline, texts in (
        (SHIPPED.actions, [a.text for a in load_actions()]),
        (SHIPPED.decisions, [d.text for d in load_decisions()]),
        (SHIPPED.rationale, [d.text for d in load_decisions()]),
    ):
        scorer = Scorer.of(pipeline)
        matrix = scorer.features(texts)
        assert (matrix != features_of(pipeline, texts)).nnz == 0
        assert np.array_equal(scorer.probabilities(matrix), probabilities(pipeline, texts))
        assert scorer.probabilities(scorer.features([])).shape == (0, len(scorer.estimators))


def test_a_scorer_follows_its_pipeline_when_it_is_fitted_again(retrained) -> None:  # type: ignore[no-untyped-def]
    from sklearn.base import clone

    pipeline = clone(SHIPPED.decisions)
    decisions = load_decisions()
    texts, labels = (
        [d.text for d in decisions],
        [[d.extension_without_rationale, d.decision_without_rationale] for d in decisions],
    )
    pipeline.fit(texts[:300], labels[:300])
    first = Scorer.of(pipeline).probabilities(Scorer.of(pipeline).features(texts))
    pipeline.fit(texts, labels)
    again = Scorer.of(pipeline).probabilities(Scorer.of(pipeline).features(texts))
    assert not np.array_equal(first, again)
    assert np.array_equal(again, probabilities(pipeline, texts))


def test_retraining_reproduces_the_metrics(retrained) -> None:  # type: ignore[no-untyped-def]
    assert evaluate(retrained, "test") == evaluate(SHIPPED, "test")


def test_the_model_was_trained_on_the_frozen_split() -> None:
    assert SHIPPED.metadata["test_split_digest"] == frozen_test_digest(load_split())


def test_the_model_card_reports_the_shipped_models_test_figures() -> None:
    card = (models_dir() / "MODEL_CARD.md").read_text(encoding="utf-8")
    results = evaluate(SHIPPED, "test")
    for category in CATEGORIES:
        for setup in ("rules", "model", "combined"):
            s = results[category][setup]
            assert f"| {category} | {setup} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |" in card


def test_loading_refuses_types_that_are_not_trusted(tmp_path: Path) -> None:
    # Through load() itself: a shipped directory whose actions file holds an untrusted type.
    for name in ("model.json", "decisions.skops", "rationale.skops"):
        shutil.copyfile(models_dir() / name, tmp_path / name)
    sio.dump(FunctionTransformer(func=print), tmp_path / "actions.skops")
    with pytest.raises(Exception, match=r"[Uu]ntrusted"):
        load(tmp_path)


def test_trusted_types_cover_the_shipped_files_and_only_the_reviewed_hashers() -> None:
    for name in ("actions.skops", "decisions.skops", "rationale.skops"):
        untrusted = sio.get_untrusted_types(file=models_dir() / name)
        assert set(untrusted) <= set(TRUSTED_TYPES)
    ours = {t for t in TRUSTED_TYPES if t.split(".")[0] not in ("builtins", "numpy", "scipy", "sklearn")}
    assert ours == {"auditor.features.WordHasher", "auditor.features.CharHasher"}


@pytest.mark.parametrize("hasher", [WordHasher(), CharHasher()])
def test_the_trusted_hashers_hold_nothing_but_plain_parameters(hasher) -> None:  # type: ignore[no-untyped-def]
    # Loading one of ours runs no code of the file's choosing: its state is its parameters.
    fitted = hasher.fit(["Mum to attend weekly"])
    assert set(vars(fitted)) == set(fitted.get_params())
    assert all(type(v) in (int, bool) for v in vars(fitted).values())


def test_the_decision_categories_are_the_products_of_their_factors() -> None:
    # The engine and evaluation read the two decision categories from the decision and rationale
    # models' factors; each category must move with its factors as the formula says.
    texts = [d.text for d in load_decisions()][:200]
    factors, reasons = probabilities(SHIPPED.decisions, texts), probabilities(SHIPPED.rationale, texts)
    categories = SHIPPED.decision_probabilities(texts)
    assert np.allclose(categories[:, 0], factors[:, 1] * (1 - reasons[:, 0]))
    assert np.allclose(categories[:, 1], factors[:, 0] * (1 - factors[:, 1]) * (1 - reasons[:, 0]))
    # And the factors learnt what they are named for.
    reasoned = "CFA extended by 10 working days. Mum has been in hospital since Monday."
    bare = "CFA extended by 10 working days."
    closed = "Case to close."
    (f_reasoned, f_bare, f_closed) = probabilities(SHIPPED.decisions, [reasoned, bare, closed])
    (r_reasoned, r_bare, _r_closed) = probabilities(SHIPPED.rationale, [reasoned, bare, closed])
    assert min(f_reasoned[1], f_bare[1]) > 0.5 > f_closed[1] and f_closed[0] > 0.5
    assert r_reasoned[0] > 0.5 > r_bare[0]


def test_a_models_folder_of_another_version_or_missing_a_file_is_refused_by_name(tmp_path: Path) -> None:
    from auditor.classifier import ModelVersionError

    for name in ("model.json", "actions.skops", "decisions.skops"):
        shutil.copyfile(models_dir() / name, tmp_path / name)
    with pytest.raises(FileNotFoundError) as missing:
        load(tmp_path)
    assert Path(str(missing.value.filename)).name == "rationale.skops"
    shutil.copyfile(models_dir() / "rationale.skops", tmp_path / "rationale.skops")
    assert load(tmp_path).version == MODEL_VERSION
    meta = json.loads((tmp_path / "model.json").read_text())
    (tmp_path / "model.json").write_text(json.dumps({**meta, "version": "1.0"}))
    with pytest.raises(ModelVersionError) as other:
        load(tmp_path)
    assert other.value.filename == str(tmp_path / "model.json") and "'1.0'" in str(other.value)
    # A rationale model that hashes unlike the decision model cannot share its counts.
    (tmp_path / "model.json").write_text(json.dumps(meta))
    unlike = build_pipeline().set_params(features__words__hash__n_features=2**10)
    unlike.fit(["Case to close as Mum has engaged.", "Case to close."], [[1], [0]])
    sio.dump(unlike, tmp_path / "rationale.skops")
    with pytest.raises(ModelVersionError) as mixed:
        load(tmp_path)
    assert mixed.value.filename == str(tmp_path / "rationale.skops") and "hashes unlike" in str(mixed.value)


def test_the_engine_scores_decisions_as_evaluation_does() -> None:
    # The engine hashes each paragraph once and weighs it for both factor models; evaluation asks
    # scikit-learn. Their probabilities must be the same, and the shared counts left unchanged.
    from auditor.combine import _scored
    from auditor.features import as_words

    texts = [d.text for d in load_decisions()]
    words = as_words(texts)
    probability, _explain = _scored(SHIPPED, "decisions", words)
    assert np.allclose(probability, SHIPPED.decision_probabilities(texts), rtol=0, atol=1e-12)
    again, _explain = _scored(SHIPPED, "decisions", words)
    assert np.array_equal(probability, again)
    counts = Scorer.of(SHIPPED.decisions).counts(words)
    before = [c.copy() for c in counts]
    Scorer.of(SHIPPED.decisions).weigh(counts)
    assert all((a != b).nnz == 0 for a, b in zip(before, counts, strict=True))


def test_metadata_is_plain_json() -> None:
    meta = json.loads((models_dir() / "model.json").read_text())
    assert meta["version"] == MODEL_VERSION
    assert set(meta["combinations"]) == set(CATEGORIES)


def test_the_readme_states_the_shipped_models_figures() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    results = evaluate(SHIPPED, "test")
    for category in CATEGORIES:
        r = results[category]
        row = f"| {category} | {r['rules'].f1:.3f} | {r['model'].f1:.3f} | {r['combined'].f1:.3f} |"
        assert row in readme, f"README's classifier table is out of date for {category}"


def test_the_decision_combinations_follow_what_leaving_parts_out_measures() -> None:
    # MODEL_DECIDES is derived from BY_PARTS; rerunning the measurement checks BY_PARTS itself,
    # so a corpus change that flips the choice fails here until the choice is made again.
    from auditor.evaluation import BY_PARTS, leave_parts_out

    rows = leave_parts_out()
    alone = next(v for k, v in rows.items() if k.startswith("factors alone, chosen on the other parts, D3"))
    with_rules = next(v for k, v in rows.items() if k.startswith("factors and rules, chosen on the other parts, D3"))
    for category in DECISION_TARGETS:
        assert BY_PARTS[category] == (round(alone[category], 3), round(with_rules[category], 3)), category
