"""The registry of model families: each is a body (text -> features) and a head (features -> labels).

    tfidf-logreg             TF-IDF body, logistic regression (the default)
    tfidf-linear-svm         TF-IDF body, linear SVM with calibrated probabilities
    nbsvm                    TF-IDF body, NB-SVM head
    embeddings-logreg        MiniLM sentence-embedding body, logistic regression    (the `embeddings` extra)
    tfidf-embeddings-logreg  both bodies side by side, logistic regression         (the `embeddings` extra)
    finetuned-minilm         raw text into MiniLM fine-tuned end to end             (the `embeddings` extra)

A new family is one module (its head, or its body) and one entry in FAMILIES. Every family is saved as the
same kind of object, a Pipeline of ("features", "classifier"), so scoring, evaluation and MLflow treat them
alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from pipeline import model_io
from pipeline.files import InputError
from pipeline.models.features import StanceFeatures
from pipeline.models.finetuned_minilm import FineTunedMiniLM
from pipeline.models.minilm import SentenceEmbedder
from pipeline.models.nbsvm import MAX_ITER, NBSVMClassifier
from pipeline.models.tfidf import build_tfidf

if TYPE_CHECKING:  # pydantic takes a while to import; scoring needs no params
    from pipeline.params import FeaturizeParams

# The feature step of a family whose head reads raw text.
RAW_TEXT = "passthrough"


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class Body:
    """Which precomputed blocks the features hold; neither means the head reads raw text."""

    tfidf: bool
    embeddings: bool

    @property
    def reads_raw_text(self) -> bool:
        return not (self.tfidf or self.embeddings)

    @property
    def options(self) -> tuple[str, ...]:
        """Search keys that shape this body's features rather than the head."""
        if self.reads_raw_text:
            return ()
        return ("target_aware", "embedding_weight") if self.embeddings else ("target_aware",)

    @property
    def trusted_types(self) -> tuple[str, ...]:
        if self.reads_raw_text:
            return ()
        classes = (StanceFeatures, SentenceEmbedder) if self.embeddings else (StanceFeatures,)
        return tuple(_type_name(c) for c in classes)


TFIDF = Body(tfidf=True, embeddings=False)
EMBEDDINGS = Body(tfidf=False, embeddings=True)
TFIDF_AND_EMBEDDINGS = Body(tfidf=True, embeddings=True)
TEXT = Body(tfidf=False, embeddings=False)


def logistic_regression(random_state: int, **hyperparams) -> LogisticRegression:
    return LogisticRegression(max_iter=MAX_ITER, random_state=random_state, **hyperparams)


def calibrated_linear_svm(random_state: int, **hyperparams) -> CalibratedClassifierCV:
    """Calibrated so that scoring still reports probabilities. Shuffled folds: corpora often come sorted by
    target or article, and unshuffled folds would calibrate on targets the fold never saw."""
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=random_state)
    return CalibratedClassifierCV(LinearSVC(random_state=random_state, **hyperparams), cv=folds)


@dataclass(frozen=True)
class Family:
    body: Body
    head: Callable[..., ClassifierMixin]  # head(random_state=..., **hyperparameters)
    head_class: type  # whose constructor parameters are the head's hyperparameters
    # Types a saved model of this family holds beyond skops' default allowlist; anything else is refused.
    head_trusted_types: tuple[str, ...] = ()

    @property
    def hyperparameters(self) -> frozenset[str]:
        return frozenset(self.head_class().get_params()) - {"random_state"} | set(self.body.options)

    @property
    def trusted_types(self) -> tuple[str, ...]:
        return self.body.trusted_types + self.head_trusted_types


_LOGREG = {"head": logistic_regression, "head_class": LogisticRegression}
FAMILIES: dict[str, Family] = {
    "tfidf-logreg": Family(TFIDF, **_LOGREG),
    "tfidf-linear-svm": Family(TFIDF, calibrated_linear_svm, LinearSVC, (
        # scikit-learn's calibration internals and folds, not on skops' default list
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.model_selection._split.StratifiedKFold",
    )),
    "nbsvm": Family(TFIDF, NBSVMClassifier, NBSVMClassifier, (_type_name(NBSVMClassifier),)),
    "embeddings-logreg": Family(EMBEDDINGS, **_LOGREG),
    "tfidf-embeddings-logreg": Family(TFIDF_AND_EMBEDDINGS, **_LOGREG),
    "finetuned-minilm": Family(TEXT, FineTunedMiniLM, FineTunedMiniLM, (_type_name(FineTunedMiniLM),)),
}
# For params validation: family name -> the keys its search grid may use.
HYPERPARAMETERS: dict[str, frozenset[str]] = {name: f.hyperparameters for name, f in FAMILIES.items()}
TRUSTED_TYPES: tuple[str, ...] = tuple(sorted({t for f in FAMILIES.values() for t in f.trusted_types}))
# Model files saved before the models package record the old module of each class.
MOVED_TYPES: dict[str, str] = {
    f"pipeline.model.{cls.__qualname__}": _type_name(cls)
    for cls in (StanceFeatures, SentenceEmbedder, NBSVMClassifier, FineTunedMiniLM)
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise InputError(f"unknown model family {name!r}; expected one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def build_features(family_name: str, hyperparams: Mapping[str, Any], tfidf, embedder,
                   prefit: bool) -> StanceFeatures | str:
    """The feature step of a family for one search candidate (RAW_TEXT when the head reads text).
    `tfidf` and `embedder` are the bodies, already fitted by the `featurize` stage when `prefit`."""
    body = family(family_name).body
    if body.reads_raw_text:
        return RAW_TEXT
    return StanceFeatures(
        tfidf=tfidf if body.tfidf else None,
        embedder=embedder if body.embeddings else None,
        embedding_weight=float(hyperparams.get("embedding_weight", 1.0)),
        target_aware=bool(hyperparams.get("target_aware", False)),
        prefit=prefit,
    )


def build_classifier(family_name: str, hyperparams: Mapping[str, Any], random_state: int) -> ClassifierMixin:
    """The head of a family, with the head's share of one search candidate."""
    spec = family(family_name)
    head_params = {k: v for k, v in hyperparams.items() if k not in spec.body.options}
    return spec.head(random_state=random_state, **head_params)


def assemble(features: StanceFeatures | str, classifier) -> Pipeline:
    """The one object that is saved, logged and scored: raw input in, labels and probabilities out."""
    return Pipeline([("features", features), ("classifier", classifier)])


def build_model(featurize: FeaturizeParams, family_name: str, hyperparams: Mapping[str, Any],
                random_state: int) -> Pipeline:
    """An unfitted model for in-process use (tests, benchmarks); `.fit(X, y)` fits every step."""
    embedder = SentenceEmbedder(**featurize.embeddings.encoder())
    features = build_features(family_name, hyperparams, build_tfidf(featurize.tfidf), embedder, prefit=False)
    return assemble(features, build_classifier(family_name, hyperparams, random_state))


def load_model(path: str | Path) -> Pipeline:
    """A saved stance model; types no family uses are refused, and a file holding anything but a stance
    model is an error that says so."""
    model = model_io.load_cached(path, TRUSTED_TYPES, MOVED_TYPES)
    if not (isinstance(model, Pipeline) and [name for name, _ in model.steps] == ["features", "classifier"]
            and hasattr(model, "classes_")):
        raise InputError(f"{path}: not a stance model (expected a fitted features -> classifier Pipeline, "
                         f"found {type(model).__name__}); train one with `dvc repro`")
    try:  # parts that do not fit together (a classifier fitted on other features) fail here, not mid-run
        model.predict_proba(["Ministers met in Moscow."])
    except Exception as err:  # any failure means the file is not a working model
        raise InputError(f"{path}: not a working stance model ({type(err).__name__}: {err}); "
                         "train one with `dvc repro`") from None
    return model
