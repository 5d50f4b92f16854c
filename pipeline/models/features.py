"""StanceFeatures: raw input -> one sparse matrix of the body's blocks (TF-IDF, weighted embeddings), and,
when target-aware, one more copy of them per training target.

A target-aware model learns what is specific to each target from the per-target copies; a row whose target
is missing or unseen has only the shared block, which keeps the model usable on text nobody labelled with
a target.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.models.inputs import model_input


class StanceFeatures(TransformerMixin, BaseEstimator):
    """`prefit=True` keeps an already fitted `tfidf` (the `featurize` stage fits it on the same training
    split), as CalibratedClassifierCV's old cv="prefit" did."""

    def __init__(self, tfidf=None, embedder=None, embedding_weight: float = 1.0, target_aware: bool = False,
                 prefit: bool = False):
        self.tfidf = tfidf
        self.embedder = embedder
        self.embedding_weight = embedding_weight
        self.target_aware = target_aware
        self.prefit = prefit

    def fit(self, X, y=None):
        texts, targets = model_input(X)
        if not self.prefit:
            if self.tfidf is not None:
                self.tfidf.fit(texts)
            if self.embedder is not None:
                self.embedder.fit(texts)
        self.targets_ = sorted(set(targets) - {""}) if self.target_aware and targets is not None else []
        return self

    def transform(self, X):
        check_is_fitted(self)
        texts, targets = model_input(X)
        if self.tfidf is None or self.embedder is None:
            tfidf_block = self.tfidf.transform(texts) if self.tfidf is not None else None
            embedding_block = self.embedder.transform(texts) if self.embedder is not None else None
            return self.combine(tfidf_block, embedding_block, targets)
        # The encoder lets go of the interpreter while it computes, so the TF-IDF analyzers run beside it
        # (7% off scoring a table with the default model).
        with ThreadPoolExecutor(1) as pool:
            embeddings = pool.submit(self.embedder.transform, texts)
            return self.combine(self.tfidf.transform(texts), embeddings.result(), targets)

    def combine(self, tfidf_block, embedding_block, targets) -> sparse.csr_matrix:
        """The feature matrix from precomputed blocks: the one place that lays the blocks out."""
        blocks = []
        if tfidf_block is not None:
            blocks.append(sparse.csr_matrix(tfidf_block))
        if embedding_block is not None:
            blocks.append(sparse.csr_matrix(np.asarray(embedding_block) * self.embedding_weight))
        # float64 even for float32 embeddings alone, so every family's probabilities are float64
        shared = sparse.hstack(blocks, format="csr", dtype=np.float64)
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
