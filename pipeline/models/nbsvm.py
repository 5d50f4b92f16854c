"""The NB-SVM head (Wang & Manning, 2012) with a logistic-regression core, one-vs-rest."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

MAX_ITER = 3000


class NBSVMClassifier(ClassifierMixin, BaseEstimator):
    """For each label, feature presence is scaled by the log-count ratio r = log((p/|p|) / (q/|q|)),
    where p and q are smoothed presence counts in that label's sentences and in the others'."""

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
