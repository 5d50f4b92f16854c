"""Benchmark: `stance score` from the shell, old and new in one run: cold start, where the time goes,
throughput and peak memory on a table of sentences (made by resampling our corpus), and flat memory at
1 and 5 million sentences.

    python bench/scoring.py [--model PATH] [--encoder PRECISION:LAYERS ...] [--baseline REV ...]
                            [--scoring-baseline REV ...] [--sizes N,N,...] [--repeats N]

--encoder int8:4 retrains the default model with that encoder (featurize.embeddings.precision and
.layers) and measures it now beside the default. The revisions before read float32 encoders only: unless
the default is float32, they score it retrained with float32:6 (the default before bfloat16).

The public stance benchmarks are in bench/public.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import model_io
from pipeline.data import read_split
from pipeline.featurize import featurize
from pipeline.files import InputError
from pipeline.models.families import HYPERPARAMETERS, assemble
from pipeline.models.inspection import minilm_runtime
from pipeline.params import Params, load_params, override
from pipeline.scoring import DEFAULT_MODEL, load_model, split_sentences
from pipeline.stage import argument_parser
from pipeline.train import TrainingData, fit_candidate

ROOT = Path(__file__).resolve().parents[1]


LIGHT_MODEL = ROOT / "tests/fixtures/legacy-tfidf-logreg.skops"  # TF-IDF + logistic regression, no torch


def corpus_table(path: Path, n: int) -> Path:
    """`n` sentences drawn with replacement from our corpus, as a CSV with an id column; written a million
    rows at a time."""
    corpus = pd.read_csv(ROOT / "data/raw/sentences.csv", usecols=["text"])["text"]
    with path.open("w", encoding="utf-8") as out:
        out.write("id,text\n")
        for start in range(0, n, 1_000_000):
            rows = corpus.sample(min(1_000_000, n - start), replace=True, random_state=start)
            out.write(pd.DataFrame({"id": range(start, start + len(rows)), "text": rows.to_numpy()})
                      .to_csv(index=False, header=False))
    return path


def run_measured(command: list[str], code: Path) -> tuple[float, float]:
    """(wall seconds, peak memory in MiB) of a command run with the package in `code`. The memory is the
    resident memory of the process and its workers added up, sampled ten times a second (the kernel's own
    peak figure for a child counts the memory of the parent it was forked from)."""
    import psutil

    start = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, cwd=code, env={**os.environ, "PYTHONPATH": str(code)},
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        watched, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                tree = [watched, *watched.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.NoSuchProcess:  # it ended while being measured
                pass
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        if process.returncode != 0:
            stderr.seek(0)
            raise SystemExit(f"{' '.join(command)} failed in {code}: {stderr.read().decode()[-800:]}")
    return seconds, peak / 2**20


def stance_score(source: Path, output: Path, model: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "score", str(source), "--model", str(model), "-q",
            "--format", "csv", "-o", str(output), *options]


def bench_profile(model_path: Path, source: Path) -> None:
    """Where the time of scoring a table goes, in-process: reading and checking, the TF-IDF analyzers, the
    MiniLM encoder, the classifier."""
    from pipeline.scoring import read_input

    print(f"## Where the time goes ({model_path.name}, {source.name})")
    start = time.perf_counter()
    table = read_input(str(source))
    texts = [s for document in table.batches(5_000) for s in document.sentences]
    parts = {"read and check the CSV": time.perf_counter() - start}
    model = load_model(model_path)
    features, classifier = model.named_steps["features"], model.named_steps["classifier"]
    start = time.perf_counter()
    tfidf = features.tfidf.transform(texts)
    parts["TF-IDF (word and character n-grams)"] = time.perf_counter() - start
    if features.embedder is not None:
        start = time.perf_counter()
        embeddings = features.embedder.transform(texts)
        encoder_seconds = time.perf_counter() - start
        parts[f"MiniLM encoder ({features.embedder.precision}, {minilm_runtime(model)})"] = encoder_seconds
    start = time.perf_counter()
    classifier.predict_proba(features.combine(tfidf, embeddings if features.embedder is not None else None,
                                              None))
    parts["feature matrix and classifier"] = time.perf_counter() - start
    total = sum(parts.values())
    for name, seconds in parts.items():
        print(f"{name:38} {seconds:7.2f} s  {seconds / total:6.1%}")
    article = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt")))
    start = time.perf_counter()
    sentences = split_sentences(article)
    seconds = time.perf_counter() - start
    print(f"(articles only) sentence splitting: {len(sentences) / seconds:,.0f} sentences/s, "
          f"{len(texts) / (len(sentences) / seconds):.2f} s for as many sentences")
    if features.embedder is not None:
        encoder_ceiling(features.embedder, texts, encoder_seconds)
    print()


def encoder_ceiling(embedder, texts: list[str], seconds: float) -> None:
    """The encoder's matrix products per second, against ONNX Runtime's own float32 MatMul on large
    matrices on the same cores: how much faster any float32 encoder of this size could be here (bfloat16
    products can pass it)."""
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer

    hidden, inner, layers = 384, 1536, embedder.layers  # all-MiniLM-L6-v2, as many layers as it keeps
    tokenizer = Tokenizer.from_str(embedder.tokenizer_)
    tokenizer.no_padding()
    tokens = np.array([len(encoding.ids) for encoding in tokenizer.encode_batch(texts)])
    # Per layer: each token through Q, K, V, the attention output (h x h each) and the feed-forward pair
    # (h x 4h, 4h x h), and each pair of tokens through the attention scores and their sum; 2 flops each.
    per_sentence = (4 * hidden * hidden + 2 * hidden * inner) * tokens + 2 * hidden * tokens ** 2
    flops = layers * 2 * per_sentence.sum()
    rows, size = 2048, 1024
    weight = numpy_helper.from_array(np.random.default_rng(0).standard_normal((size, size), np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"])], "peak",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [rows, size])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [rows, size])], [weight])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    model = helper.make_model(graph, ir_version=8, opset_imports=[helper.make_opsetid("", 17)])
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    feed = {"X": np.random.default_rng(1).standard_normal((rows, size), np.float32)}
    session.run(None, feed)
    start, runs = time.perf_counter(), 0
    while time.perf_counter() - start < 3:
        session.run(None, feed)
        runs += 1
    peak = 2 * rows * size * size * runs / (time.perf_counter() - start)
    print(f"encoder: {flops / len(texts) / 1e9:.2f} GFLOP of matrix products a sentence ({tokens.mean():.0f} "
          f"tokens on average), {flops / seconds / 1e9:.0f} GFLOP/s; ONNX Runtime's float32 MatMul on "
          f"{rows} x {size} by {size} x {size}: {peak / 1e9:.0f} GFLOP/s on {os.cpu_count()} cores. At that "
          f"rate the encoder would take {flops / peak:.1f} s instead of {seconds:.1f} s")


def bench_throughput(model_path: Path, old_model: Path, source: Path, baselines: list[str], scratch: Path,
                     options: dict[str, tuple[Path, list[str]]]) -> None:
    """The same table through `stance score` at each of `baselines` with `old_model` and now with
    `model_path`, then now with each of `options` (a model file and arguments); the predictions are
    compared with the first baseline's."""
    rows = sum(1 for _ in source.open(encoding="utf-8")) - 1
    print(f"## Throughput and peak memory: {rows:,} sentences, {model_path.name}, `stance score` from the "
          f"shell ({os.cpu_count()} cores; the revisions before score {old_model.name})")
    variants = {**{f"at {rev}": (rev, old_model, []) for rev in baselines}, "now": (None, model_path, []),
                **{name: (None, *option) for name, option in options.items()}}
    print(f"{'':36} {'wall s':>8} {'sent/s':>8} {'x first':>9} {'peak MiB':>9} {'labels as first':>17}")
    reference = first = None
    for number, (name, (rev, model, arguments)) in enumerate(variants.items()):
        code = cli_code(rev, scratch / f"code-{model_path.stem}-{number}") if rev else ROOT
        output = scratch / f"scored-{number}.csv"
        seconds, peak = run_measured(stance_score(source, output, model, *arguments), code)
        scored = pd.read_csv(output)
        reference = scored if reference is None else reference
        first = first or seconds
        agree = (scored["label"] == reference["label"]).mean()
        drift = max((scored[c] - reference[c]).abs().max() for c in ("p_support", "p_reject", "p_neutral"))
        print(f"{name:36} {seconds:8.1f} {rows / seconds:8.0f} {first / seconds:9.2f} {peak:9.0f} "
              f"{agree:10.2%} (max |dp| {drift:.4f})")
    print()


def bench_scale(model_path: Path, sizes: list[int], scratch: Path) -> None:
    print(f"## Memory at scale: `stance score` now, {model_path.name} (the I/O path every model uses; the "
          "MiniLM encoder adds its own fixed amount, measured above)")
    print(f"{'sentences':>10} {'wall s':>8} {'sent/s':>8} {'peak MiB':>9}")
    for n in sizes:
        source = corpus_table(scratch / f"scale-{n}.csv", n)
        output = scratch / f"scale-{n}-scored.csv"
        seconds, peak = run_measured(stance_score(source, output, model_path), ROOT)
        print(f"{n:>10,} {seconds:8.1f} {n / seconds:8.0f} {peak:9.0f}")
        source.unlink()
        output.unlink()
    print()


# The last commit before the CLI imported heavy modules lazily, the last one before the MiniLM encoder ran in
# ONNX Runtime, and the last one before the cycle collector was paused while a command loads (with the
# same installed packages: scipy's version is measured apart).
COLD_START_BASELINES = ["b06c502", "e69d4bb", "5d50b2a"]
MISSING = "no-such-file.txt"


def cli_code(rev: str | None, folder: Path) -> Path:
    """The pipeline package at `rev` (unpacked into `folder`), or this checkout's for None."""
    if rev is None:
        return ROOT
    folder.mkdir()
    archive = subprocess.run(["git", "archive", rev, "pipeline"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def wall_seconds(code: Path, arguments: list[str], repeats: int) -> float:
    """Median wall time of `stance ARGUMENTS` from process start to exit, run with the package in `code`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pipeline.cli", *arguments], cwd=code,
                              capture_output=True, env={**os.environ, "PYTHONPATH": str(code)})
        times.append(time.perf_counter() - start)
        if done.returncode != 0 and arguments[-1] != MISSING:
            raise SystemExit(f"stance {' '.join(arguments)} failed in {code}: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


def encoder_params(setting: str) -> Params:
    """params.yaml with the encoder set as PRECISION:LAYERS (for --encoder; validated as params.yaml is)."""
    precision, _, layers = setting.partition(":")
    try:
        changes = {"featurize.embeddings.precision": precision, "featurize.embeddings.layers": int(layers)}
        return override(load_params(ROOT / "params.yaml", HYPERPARAMETERS), changes, HYPERPARAMETERS)
    except (ValueError, InputError) as err:
        raise argparse.ArgumentTypeError(f"{setting!r} is not PRECISION:LAYERS ({err})") from None


def retrained(params: Params, folder: Path) -> Path:
    """The default model fitted again with `params`' encoder: its family and the hyperparameters its search
    chose (models/search.json), on the same train split (data/prepared), no search."""
    chosen = json.loads((ROOT / "models" / model_io.SEARCH_REPORT_FILE).read_text())["chosen"]
    frame = read_split(ROOT / "data" / "prepared", "train").reset_index(drop=True)
    data = TrainingData(frame, *featurize(frame["text"].tolist(), params.featurize))
    features, classifier = fit_candidate(data, np.arange(len(frame)), chosen, params.train)
    encoder = params.featurize.embeddings
    path = folder / f"model-{encoder.precision}-{encoder.layers}-layers.skops"
    model_io.save(assemble(features, classifier), path)
    return path


def bench_cold_start(model_path: Path, old_model: Path, other_models: dict[str, Path], baselines: list[str],
                     repeats: int) -> None:
    """`stance` from the shell at each of `baselines` and now; the revisions before score one article with
    `old_model`, now with `model_path`."""
    print(f"## Cold start of `stance` (median of {repeats}, wall seconds; each revision in the same run)")
    article = ROOT / "examples/ankara_damascus_talks.txt"
    light = ROOT / "tests/fixtures/legacy-tfidf-logreg.skops"
    cases = [("--help", ["--help"], ["--help"]), ("missing file", ["score", MISSING], ["score", MISSING]),
             ("one article, tfidf-logreg", *[["score", str(article), "--model", str(light)]] * 2)]
    if model_path.is_file():
        cases.append(("one article, the trained model", ["score", str(article), "--model", str(old_model)],
                      ["score", str(article), "--model", str(model_path)]))
    with tempfile.TemporaryDirectory() as scratch:
        codes = [cli_code(rev, Path(scratch) / rev) for rev in baselines]
        print(f"{'':34}" + "".join(f" {name:>8}" for name in [*baselines, "now"]))
        for name, before, now in cases:
            seconds = [wall_seconds(code, before, repeats) for code in codes]
            seconds.append(wall_seconds(ROOT, now, repeats))
            print(f"{name:34}" + "".join(f" {value:8.2f}" for value in seconds))
        for setting, other in other_models.items():  # now only
            seconds = wall_seconds(ROOT, ["score", str(article), "--model", str(other)], repeats)
            print(f"{'one article, ' + setting:34}" + " " * 9 * len(baselines) + f" {seconds:8.2f}")
    print()


# The last commit before `stance score` streamed its input, the last one before ONNX Runtime, and the last
# one before the collector pause.
SCORING_BASELINES = ["685fc40", "e69d4bb", "5d50b2a"]


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_MODEL)
    parser.add_argument("--encoder", type=encoder_params, nargs="*", default=[], metavar="PRECISION:LAYERS",
                        help="retrain the default model with these encoders (e.g. int8:4), measured now too")
    parser.add_argument("--baseline", nargs="*", default=COLD_START_BASELINES,
                        help="the revisions to compare cold start with")
    parser.add_argument("--scoring-baseline", nargs="*", default=SCORING_BASELINES,
                        help="the revisions to compare throughput with")
    parser.add_argument("--sentences", type=int, default=10_000, help="table size for the throughput table")
    parser.add_argument("--sizes", default="10000,1000000,5000000",
                        help="table sizes for the memory-at-scale table (comma-separated; empty: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.model.is_file():
        bench_cold_start(args.model, args.model, {}, args.baseline, args.repeats)
        print(f"skipped scoring: {args.model} not found (run `make repro` first)")
        return
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        other_models = {f"{p.featurize.embeddings.precision}, {p.featurize.embeddings.layers} layers":
                        retrained(p, scratch) for p in args.encoder}
        # The revisions before read float32 encoders only: they score the default retrained in float32.
        features = load_model(args.model).named_steps["features"]
        float32 = getattr(getattr(features, "embedder", None), "precision", "float32") == "float32"
        old_model = (args.model if float32 else other_models.get("float32, 6 layers")
                     or retrained(encoder_params("float32:6"), scratch))
        bench_cold_start(args.model, old_model, other_models, args.baseline, args.repeats)
        source = corpus_table(scratch / f"sentences-{args.sentences}.csv", args.sentences)
        bench_profile(args.model, source)
        jobs = ["--jobs", "2"]
        options = {"now --jobs 2": (args.model, jobs)}
        for setting, other in other_models.items():
            options |= {f"now, {setting}": (other, []), f"now, {setting} --jobs 2": (other, jobs)}
        bench_throughput(args.model, old_model, source, args.scoring_baseline, scratch, options)
        bench_throughput(LIGHT_MODEL, LIGHT_MODEL, corpus_table(scratch / "light.csv", 20 * args.sentences),
                         args.scoring_baseline, scratch, {"now --jobs 2": (LIGHT_MODEL, jobs)})
        if args.sizes:
            bench_scale(LIGHT_MODEL, [int(n) for n in args.sizes.split(",")], scratch)


if __name__ == "__main__":
    main()
