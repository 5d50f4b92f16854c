"""Benchmark: scoring speed and memory of the trained model (models/stance_model.skops), and the cold
start of the `stance` command beside the one before its heavy imports were made lazy.

    python bench/scoring.py [--model PATH] [--baseline REV] [--repeats N]

The public stance benchmarks are in bench/public.py.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from pipeline.scoring import DEFAULT_MODEL, load_model, split_sentences
from pipeline.stage import argument_parser

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_scoring(model_path: Path) -> None:
    print("## Scoring speed and memory")
    if not model_path.is_file():
        print(f"skipped: {model_path} not found (run `make repro` first)\n")
        return
    start = time.perf_counter()
    model = load_model(model_path)
    print(f"load model:           {time.perf_counter() - start:.3f} s")
    corpus = pd.read_csv(ROOT / "data/raw/sentences.csv")["text"].tolist()
    for n in (1, 100, 10_000):
        batch = (corpus * (n // len(corpus) + 1))[:n]
        start = time.perf_counter()
        model.predict_proba(batch)
        seconds = time.perf_counter() - start
        print(f"predict_proba n={n:<6} {seconds:.3f} s  ({n / seconds:,.0f} sentences/s)")
    article = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt")))
    start = time.perf_counter()
    for _ in range(20):
        sentences = split_sentences(article)
    seconds = (time.perf_counter() - start) / 20
    print(f"split_sentences:      {len(sentences)} sentences in {seconds * 1000:.1f} ms "
          f"({len(sentences) / seconds:,.0f} sentences/s)")
    print(f"peak RSS:             {peak_rss_mib():.0f} MiB\n")


COLD_START_BASELINE = "b06c502"  # the last commit before the CLI imported heavy modules lazily
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


def bench_cold_start(model_path: Path, baseline: str, repeats: int) -> None:
    print(f"## Cold start of `stance` (median of {repeats}, wall seconds; {baseline} in the same run)")
    article = ROOT / "examples/ankara_damascus_talks.txt"
    light = ROOT / "tests/fixtures/legacy-tfidf-logreg.skops"
    cases = [("--help", ["--help"]), ("missing file", ["score", MISSING]),
             ("one article, tfidf-logreg", ["score", str(article), "--model", str(light)])]
    if model_path.is_file():
        cases.append(("one article, the trained model", ["score", str(article), "--model", str(model_path)]))
    with tempfile.TemporaryDirectory() as scratch:
        codes = {"before": cli_code(baseline, Path(scratch) / "before"), "now": cli_code(None, Path(scratch))}
        print(f"{'':34} {'before':>8} {'now':>8}")
        for name, arguments in cases:
            before, now = (wall_seconds(code, arguments, repeats) for code in codes.values())
            print(f"{name:34} {before:8.2f} {now:8.2f}")
    print()


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_MODEL)
    parser.add_argument("--baseline", default=COLD_START_BASELINE, help="the git revision to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bench_cold_start(args.model, args.baseline, args.repeats)
    bench_scoring(args.model)


if __name__ == "__main__":
    main()
