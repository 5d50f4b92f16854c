"""Benchmark: scoring speed and memory of the trained model (models/stance_model.skops).

    python bench/scoring.py [--model PATH]

The public stance benchmarks are in bench/public.py.
"""

from __future__ import annotations

import resource
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


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_MODEL)
    bench_scoring(parser.parse_args().model)


if __name__ == "__main__":
    main()
