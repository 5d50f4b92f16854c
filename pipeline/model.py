"""The model: one scikit-learn Pipeline from raw text to stance labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from pipeline.files import InputError

TEXT_COLUMN = "text"


class TextColumn(TransformerMixin, BaseEstimator):
    """Turn the model's input into a 1-d array of strings.

    Accepts a list / array / Series of strings, or a DataFrame with a `text` column. MLflow's pyfunc
    passes a DataFrame, and a bare TfidfVectorizer would iterate over its column names and return a
    single prediction for any number of rows.
    """

    def __init__(self, column: str = TEXT_COLUMN):
        self.column = column

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if isinstance(X, str):
            raise TypeError("expected a list of texts, got a single string: wrap it in a list")
        if isinstance(X, pd.DataFrame):
            if self.column not in X.columns:
                raise ValueError(
                    f"input DataFrame has no {self.column!r} column (columns: {list(X.columns)})"
                )
            X = X[self.column]
        return pd.Series(np.asarray(X, dtype=object).ravel()).fillna("").astype(str).to_numpy()

    def __sklearn_is_fitted__(self) -> bool:
        return True  # stateless


def build_featurizer(params: dict[str, Any]) -> FeatureUnion:
    """Word n-grams carry the stance cues; character n-grams add robustness to inflection and names."""
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, params["word_ngram_max"]),
        min_df=params["word_min_df"],
        max_features=params["max_features"],
        sublinear_tf=params["sublinear_tf"],
        lowercase=params["lowercase"],
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(params["char_ngram_min"], params["char_ngram_max"]),
        min_df=params["char_min_df"],
        max_features=params["max_features"],
        sublinear_tf=params["sublinear_tf"],
        lowercase=params["lowercase"],
    )
    return FeatureUnion([("words", words), ("chars", chars)])


CLASSIFIERS = ("logistic_regression", "linear_svm")


def build_classifier(params: dict[str, Any]) -> ClassifierMixin:
    """The classifier named by `params['classifier']`, with its hyperparameters from params[family]."""
    family = params["classifier"]
    hyperparams = dict(params.get(family) or {})
    seed = params["random_state"]
    if family == "logistic_regression":
        return LogisticRegression(random_state=seed, **hyperparams)
    if family == "linear_svm":
        # Calibrated so that scoring still reports probabilities.
        return CalibratedClassifierCV(LinearSVC(random_state=seed, **hyperparams), cv=3)
    raise InputError(
        f"params.yaml: train.classifier: unknown classifier {family!r}; expected one of {', '.join(CLASSIFIERS)}"
    )


def assemble(featurizer, classifier) -> Pipeline:
    """The one object that is saved, logged and scored: raw text in, labels and probabilities out."""
    return Pipeline([("text", TextColumn()), ("features", featurizer), ("classifier", classifier)])


def build_model(featurize_params: dict[str, Any], train_params: dict[str, Any]) -> Pipeline:
    """An unfitted model for in-process experiments (cross-validation, benchmarks)."""
    return assemble(build_featurizer(featurize_params), build_classifier(train_params))
