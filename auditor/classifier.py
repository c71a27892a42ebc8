"""The trained classifier: two scikit-learn pipelines, one for plan actions and one for decision
entries, with their features inside the pipeline, trained deterministically, saved with skops and
loaded with a reviewed list of trusted types (never pickle).

The models learn from the words alone (word and character n-grams); the rules' signals are not
features. The two are combined per category afterwards (`Combination`), so that each can correct
the other: the model speaks where the rules are silent or unsure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

MODEL_VERSION = "1.0"
ACTION_TARGETS = ("vague_action", "missing_owner", "missing_timescale", "vague_timescale")
DECISION_TARGETS = ("extension_without_rationale", "decision_without_rationale")

# Every type a saved model may contain. skops refuses anything else; this list is reviewed: each
# entry is a scikit-learn estimator, a NumPy type or a builtin that these pipelines are built from.
TRUSTED_TYPES = [
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.multioutput.MultiOutputClassifier",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
]


def build_pipeline(seed: int = 0) -> Pipeline:
    """Word 1-2-grams and character 2-4-grams, TF-IDF weighted; one logistic regression per target."""
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    lowercase=True, ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w[\w'/]*\b"
                ),
            ),
            (
                "chars",
                TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(2, 4), min_df=3, sublinear_tf=True),
            ),
        ]
    )
    classifier = MultiOutputClassifier(
        LogisticRegression(C=4.0, max_iter=5000, class_weight="balanced", solver="liblinear", random_state=seed)
    )
    return Pipeline([("features", features), ("classify", classifier)])


def features_of(pipeline: Pipeline, texts: list[str]) -> Any:
    """The pipeline's feature matrix for these texts (sparse, one row per text)."""
    return pipeline.named_steps["features"].transform(texts).tocsr()


def probabilities(pipeline: Pipeline, texts: list[str], features: Any = None) -> np.ndarray:
    """Probability of each target (columns in target order) for each text (rows).

    Pass `features` (from `features_of`) to reuse a matrix already computed for `explain`."""
    classify = pipeline.named_steps["classify"]
    if not texts:
        return np.zeros((0, len(classify.estimators_)))
    matrix = features if features is not None else features_of(pipeline, texts)
    return np.column_stack([p[:, 1] for p in classify.predict_proba(matrix)])


_FEATURE_NAMES: dict[int, Any] = {}


def explain(pipeline: Pipeline, text: str, target: int, top: int = 5, row: Any = None) -> list[str]:
    """The words and character sequences that pushed this text towards the target, strongest first."""
    features: FeatureUnion = pipeline.named_steps["features"]
    if row is None:
        row = features.transform([text]).tocsr()
    coefficients = pipeline.named_steps["classify"].estimators_[target].coef_[0]
    names = _FEATURE_NAMES.get(id(pipeline))
    if names is None:
        names = _FEATURE_NAMES[id(pipeline)] = features.get_feature_names_out()
    contributions = [(row.data[k] * coefficients[j], names[j]) for k, j in enumerate(row.indices)]
    pushed = sorted((c for c in contributions if c[0] > 0), reverse=True)
    words: list[str] = []
    for _weight, name in pushed:
        kind, _, feature = name.partition("__")
        shown = feature.strip() if kind == "words" else f"…{feature.strip()}…"
        if shown and shown not in words:
            words.append(shown)
        if len(words) == top:
            break
    return words


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


@dataclass
class TrainedModels:
    actions: Pipeline
    decisions: Pipeline
    combinations: dict[str, Combination]
    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", MODEL_VERSION))


def models_dir() -> Path:
    """The shipped models: inside the wheel, or models/ in a source checkout."""
    shipped = Path(__file__).resolve().parent / "_data" / "models"
    return shipped if shipped.is_dir() else Path(__file__).resolve().parent.parent / "models"


def save(models: TrainedModels, directory: Path) -> None:
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    sio.dump(models.actions, directory / "actions.skops")
    sio.dump(models.decisions, directory / "decisions.skops")
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
    combinations = {k: Combination(**v) for k, v in metadata.pop("combinations").items()}
    actions = sio.load(directory / "actions.skops", trusted=TRUSTED_TYPES)
    decisions = sio.load(directory / "decisions.skops", trusted=TRUSTED_TYPES)
    return TrainedModels(actions, decisions, combinations, metadata)
