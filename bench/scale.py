"""Scale: the whole `make repro` path (pipeline/repro.py around `dvc repro`) on a large corpus, in a copy of
the project, with its wall time and the peak memory of the largest process.

    python bench/scale.py [--rows 200000] [--keep]

The corpus is ours, resampled: articles are drawn with replacement, each copy gets new ids, and half
the words of each sentence are replaced by words drawn from the corpus, so copies are not duplicates of
one another (the data contract drops exact repeats; near-duplicates would flatter the near-duplicate
search). What it measures is the machinery (data contract, near-duplicate search, splits, features,
search, evaluation, MLflow), not accuracy.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.stage import argument_parser  # noqa: E402
from tests.e2e.conftest import command_env, copy_project  # noqa: E402


def resampled(rows: int, seed: int = 0, replaced: float = 0.5) -> pd.DataFrame:
    corpus = pd.read_csv(ROOT / "data/raw/sentences.csv", dtype=str, keep_default_na=False)
    articles = [rows_of for _, rows_of in corpus.groupby("doc_id", sort=False)]
    vocabulary = np.array(" ".join(corpus["text"]).split())
    rng = np.random.default_rng(seed)

    def rewritten(text: str) -> str:
        words = np.array(text.split())
        swap = rng.random(len(words)) < replaced
        words[swap] = rng.choice(vocabulary, swap.sum())
        return " ".join(words)

    copies, total = [], 0
    while total < rows:
        article = articles[rng.integers(len(articles))].copy()
        number = len(copies) + 1
        article["doc_id"] = f"big-{number:06d}"
        article["sentence_id"] = [f"big-{number:06d}-s{i:02d}" for i in range(1, len(article) + 1)]
        article["text"] = [f"{rewritten(text)} ({number})" for text in article["text"]]
        copies.append(article)
        total += len(article)
    return pd.concat(copies, ignore_index=True).head(rows)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the project copy (its path is printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stance-scale-"))
    project = copy_project(folder / "project")
    big = resampled(args.rows)
    big.to_csv(project / "data/raw/sentences.csv", index=False)
    print(f"{len(big)} rows in {big['doc_id'].nunique()} articles -> {project}", flush=True)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipeline.repro"], cwd=project, env=command_env(project),
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stages = [line for line in (result.stdout + result.stderr).splitlines()
              if line.startswith(("Running stage", "INFO __main__"))]
    print("\n".join(stages))
    print(f"exit status {result.returncode}; wall time {seconds / 60:.1f} min; "
          f"peak RSS of the largest process {peak_mib:,.0f} MiB")
    if result.returncode != 0:
        print(result.stderr[-3000:])
    if not args.keep:
        subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    main()
