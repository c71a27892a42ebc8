"""The trained classifier: three scikit-learn pipelines, one for plan actions and two for
decision entries (see DECISION_FACTORS), with their features inside the pipeline, trained
deterministically, saved with skops and loaded with a reviewed list of trusted types (never
pickle).

The models learn from the words alone (word and character n-grams of spaCy's tokens, see
`auditor.features`); the rules' signals are not features. The two are combined per category afterwards (`Combination`), so that each can correct
the other: the model speaks where the rules are silent or unsure.
"""

from __future__ import annotations

import json
import weakref
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from auditor.features import CharHasher, WordHasher, Words, as_words

MODEL_VERSION = "1.3"
ACTION_TARGETS = ("vague_action", "missing_owner", "missing_timescale", "vague_timescale")
DECISION_TARGETS = ("extension_without_rationale", "decision_without_rationale")
# The decision categories are not learnt directly. One model learns, from every entry, whether it
# records a decision and whether that decision extends a timescale (`DECISION_FACTORS`); a second,
# trained on the decisions only, whether their reason is recorded. Then
#     p(extension without rationale) = p(extension) x (1 - p(reason | decision))
#     p(decision without rationale)  = p(decision) x (1 - p(extension)) x (1 - p(reason | decision))
# Each factor is learnt from far more examples of its own than the conjunction has (an extension
# without a reason is one entry in six), and the factors carry over to words the corpus used for
# the other category. Chosen by leaving each written part of train and dev out in turn (the
# part unseen, as real records are; `auditor evaluate --by-part` reruns it): F1 0.805 -> 0.854
# and 0.829 -> 0.860 against learning the two categories directly.
DECISION_FACTORS = ("is_decision", "is_extension")

# Every type a saved model may contain. skops refuses anything else; this list is reviewed: each
# entry is a scikit-learn estimator, a NumPy type or a builtin that these pipelines are built from.
TRUSTED_TYPES = [
    "auditor.features.CharHasher",
    "auditor.features.WordHasher",
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.multioutput.MultiOutputClassifier",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
]


def build_pipeline(seed: int = 0) -> Pipeline:
    """Word 1-2-grams (with number shapes) and character 2-4-grams of spaCy's tokens, hashed and
    TF-IDF weighted; one logistic regression per target."""
    features = FeatureUnion(
        [
            ("words", Pipeline([("hash", WordHasher()), ("tfidf", TfidfTransformer(sublinear_tf=True))])),
            ("chars", Pipeline([("hash", CharHasher(2, 4)), ("tfidf", TfidfTransformer(sublinear_tf=True))])),
        ]
    )
    classifier = MultiOutputClassifier(
        LogisticRegression(C=16.0, max_iter=5000, class_weight="balanced", solver="liblinear", random_state=seed)
    )
    return Pipeline([("features", features), ("classify", classifier)])


Texts = Sequence[str | Words]


def features_of(pipeline: Pipeline, texts: Texts) -> Any:
    """The pipeline's feature matrix for these texts (sparse, one row per text)."""
    return pipeline.named_steps["features"].transform(as_words(texts)).tocsr()


def probabilities(pipeline: Pipeline, texts: Texts) -> np.ndarray:
    """Probability of each target (columns in target order) for each text (rows), computed by
    scikit-learn (training and evaluation; the engine uses `Scorer`, which a test holds equal)."""
    classify = pipeline.named_steps["classify"]
    if not len(texts):
        return np.zeros((0, len(classify.estimators_)))
    return np.column_stack([p[:, 1] for p in classify.predict_proba(features_of(pipeline, texts))])


class Scorer:
    """A fitted pipeline's predictions as plain array arithmetic, for the engine.

    The pipeline is hashing, TF-IDF and one logistic regression per target, so its probabilities
    are: hashed counts, sublinear TF times IDF, each block's rows L2-normalised, then one sparse
    matrix product with every target's coefficients at once and the logistic function. That is
    what scikit-learn computes, in the same order (`tests/test_classifier.py` asserts the same
    numbers), without its per-call validation, the feature union's job dispatch and one
    `predict_proba` per target, which together cost the audit more than the arithmetic did.
    Training and evaluation use scikit-learn itself."""

    _cache: ClassVar[weakref.WeakKeyDictionary[Pipeline, Scorer]] = weakref.WeakKeyDictionary()

    def __init__(self, pipeline: Pipeline) -> None:
        features, classify = pipeline.named_steps["features"], pipeline.named_steps["classify"]
        if not isinstance(features, FeatureUnion) or features.transformer_weights is not None:
            raise TypeError("not a pipeline build_pipeline() made")
        self.blocks: list[tuple[str, WordHasher | CharHasher, TfidfTransformer]] = []
        for name, block in features.transformer_list:
            hasher, tfidf = (step for _, step in block.steps)
            if not (isinstance(hasher, WordHasher | CharHasher) and isinstance(tfidf, TfidfTransformer)):
                raise TypeError("not a pipeline build_pipeline() made")
            self.blocks.append((name, hasher, tfidf))
        self.estimators = list(classify.estimators_)
        for estimator in self.estimators:
            if list(estimator.classes_) != [0, 1]:
                raise TypeError("each target must be a binary 0/1 classifier")
        self.weights = np.ascontiguousarray(np.column_stack([e.coef_[0] for e in self.estimators]))
        self.intercepts = np.asarray([e.intercept_[0] for e in self.estimators], dtype=np.float64)

    @classmethod
    def of(cls, pipeline: Pipeline) -> Scorer:
        """The pipeline's scorer, built once per fit of the pipeline."""
        scorer = cls._cache.get(pipeline)
        estimators = pipeline.named_steps["classify"].estimators_
        if (
            scorer is None
            or len(scorer.estimators) != len(estimators)
            or any(a is not b for a, b in zip(scorer.estimators, estimators, strict=True))
        ):
            scorer = cls._cache[pipeline] = cls(pipeline)
        return scorer

    def features(self, texts: Texts) -> sp.csr_matrix:
        """The feature matrix, as the pipeline's feature union makes it."""
        return self.weigh(self.counts(texts), copy=False)

    def counts(self, texts: Texts) -> list[sp.csr_matrix]:
        """Each block's hashed counts (before TF-IDF): what `weigh` turns into features. Two
        scorers whose `hashing` is equal can share them."""
        words = as_words(texts)
        return [hasher.counts(words) for _name, hasher, _tfidf in self.blocks]

    @property
    def hashing(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """What the counts depend on: each block's hasher and its parameters."""
        return tuple((type(hasher).__name__, hasher.get_params()) for _name, hasher, _tfidf in self.blocks)

    def weigh(self, counts: list[sp.csr_matrix], copy: bool = True) -> sp.csr_matrix:
        """The feature matrix from `counts`, which are left as they were unless `copy` is off."""
        parts = []
        for (_name, _hasher, tfidf), hashed in zip(self.blocks, counts, strict=True):
            matrix = hashed.copy() if copy else hashed
            if tfidf.sublinear_tf:
                np.log(matrix.data, matrix.data)
                matrix.data += 1.0
            if tfidf.use_idf:
                matrix.data *= tfidf.idf_[matrix.indices]
            if tfidf.norm == "l2":
                inplace_csr_row_normalize_l2(matrix)
            elif tfidf.norm is not None:
                raise TypeError(f"unsupported TF-IDF norm {tfidf.norm!r}")
            parts.append(matrix)
        return sp.hstack(parts, format="csr")

    def probabilities(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Probability of each target (columns) for each row of a `features` matrix."""
        return np.asarray(expit(matrix @ self.weights + self.intercepts))

    def explain(
        self,
        text: str | Words,
        target: int,
        top: int = 5,
        matrix: Any = None,
        row: int = 0,
        hidden: frozenset[int] = frozenset(),
        against: bool = False,
    ) -> list[str]:
        """The words, word pairs and character sequences that pushed this text towards the
        target (`against`: away from it), strongest first. Pass `matrix` (from `features`) and
        the text's `row` in it to reuse features already computed. No word whose key is in
        `hidden` (personal data) is named, nor any n-gram of one."""
        words = as_words([text])[0]
        if matrix is None:
            matrix, row = self.features([words]), 0
        first, last = matrix.indptr[row], matrix.indptr[row + 1]
        indices, data = matrix.indices[first:last], matrix.data[first:last]
        weights = data * self.weights[indices, target]
        if against:
            weights = -weights
        order = np.argsort(-weights, kind="stable")
        order = order[weights[order] > 0]
        # Name only the strongest columns, per block (words first, then characters); a hashed
        # column can be shared by several n-grams, so some are not this text's to name.
        candidates = indices[order[: 4 * top]].tolist()
        names: dict[int, str] = {}
        offset = 0
        for kind, hasher, _tfidf in self.blocks:
            wanted = {c - offset for c in candidates if offset <= c < offset + hasher.n_features}
            if wanted:
                for column, name in hasher.names(words, wanted, hidden).items():
                    names[offset + column] = name if kind == "words" else f"…{name.strip()}…"
            offset += hasher.n_features
        shown: list[str] = []
        for column in candidates:
            name = names.get(column, "")
            if name and name != "……" and name not in shown:
                shown.append(name)
            if len(shown) == top:
                break
        return shown


@dataclass(frozen=True)
class Combination:
    """How the rule and the model decide one category together.

    The category is reported when the rule fires and the model does not strongly disagree
    (probability at least `confirm`), or when the model alone is confident (at least `add`):
        combined = (rule and p >= confirm) or p >= add
    Both thresholds are chosen on the dev split. `model_only` is the threshold for the model alone.
    """

    confirm: float
    add: float
    model_only: float

    def decide(self, rule: bool, probability: float) -> bool:
        return (rule and probability >= self.confirm) or probability >= self.add


def decision_categories(decision: np.ndarray, rationale: np.ndarray) -> np.ndarray:
    """Probability of each of DECISION_TARGETS (columns), from the factors: the decision model's
    columns (DECISION_FACTORS) and the rationale model's one column (see DECISION_FACTORS)."""
    p_decision, p_extension = decision[:, 0], decision[:, 1]
    no_reason = 1.0 - rationale[:, 0]
    return np.column_stack([p_extension * no_reason, p_decision * (1.0 - p_extension) * no_reason])


@dataclass
class TrainedModels:
    actions: Pipeline
    decisions: Pipeline  # DECISION_FACTORS, over every entry
    rationale: Pipeline  # rationale_present, over the entries that record a decision
    combinations: dict[str, Combination]
    metadata: dict[str, Any]

    def decision_probabilities(self, texts: Texts) -> np.ndarray:
        """Probability of each of DECISION_TARGETS for each text, by scikit-learn."""
        return decision_categories(probabilities(self.decisions, texts), probabilities(self.rationale, texts))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", MODEL_VERSION))


class ModelVersionError(ValueError):
    """The models folder holds a model of another version than this code reads (or files that
    do not belong together)."""

    def __init__(self, path: Path, version: object, problem: str | None = None) -> None:
        super().__init__(f"{path}: {problem or f'model version {version!r}, this auditor reads {MODEL_VERSION!r}'}")
        self.filename = str(path)


def models_dir() -> Path:
    """The shipped models: inside the wheel, or models/ in a source checkout."""
    shipped = Path(__file__).resolve().parent / "_data" / "models"
    return shipped if shipped.is_dir() else Path(__file__).resolve().parent.parent / "models"


def save(models: TrainedModels, directory: Path) -> None:
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    # Compressed: the hashed features leave most coefficients at zero (21 MB plain, under 1 MB).
    for name, pipeline in (
        ("actions", models.actions),
        ("decisions", models.decisions),
        ("rationale", models.rationale),
    ):
        sio.dump(pipeline, directory / f"{name}.skops", compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    payload = {
        **models.metadata,
        "combinations": {k: vars(v) for k, v in sorted(models.combinations.items())},
    }
    (directory / "model.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(directory: Path | None = None) -> TrainedModels:
    """Load the shipped models, trusting only TRUSTED_TYPES."""
    import skops.io as sio

    directory = directory or models_dir()
    metadata = json.loads((directory / "model.json").read_text(encoding="utf-8"))
    if metadata.get("version") != MODEL_VERSION:
        # A model of another version has other files or other columns (1.0's decision model
        # predicted the categories, 1.1's their factors): never mix them.
        raise ModelVersionError(directory / "model.json", metadata.get("version"))
    combinations = {k: Combination(**v) for k, v in metadata.pop("combinations").items()}
    actions = sio.load(directory / "actions.skops", trusted=TRUSTED_TYPES)
    decisions = sio.load(directory / "decisions.skops", trusted=TRUSTED_TYPES)
    rationale = sio.load(directory / "rationale.skops", trusted=TRUSTED_TYPES)
    if Scorer.of(rationale).hashing != Scorer.of(decisions).hashing:
        # The engine hashes each paragraph once for both decision models.
        raise ModelVersionError(directory / "rationale.skops", metadata.get("version"), "hashes unlike decisions.skops")
    return TrainedModels(actions, decisions, rationale, combinations, metadata)
