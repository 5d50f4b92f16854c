"""Levers for real-news accuracy, each measured over several article splits of our corpus.

    python bench/levers.py [--seeds 5] [--out bench/levers_results.md]

For every lever below and every seed, our corpus is split by article as the prepare stage splits it
(test_size of params.yaml, the seed as random_state); the variant is fitted on the training side through
the train stage's own code and scored on that split's test side and on the confident rows of
../shared/benchmarks/realnews-dev (measured, never trained on). The table gives the mean and standard
deviation over seeds, because one split alone moves real-news macro-F1 by several points.

Levers (hyperparameters fixed, as bench/transfer.py fixes them):
    corpus        the first writing wave only (art-001..112) or all 192 articles
    family        TF-IDF alone, or TF-IDF with MiniLM sentence embeddings
    class weights balanced (a uniform label prior) or none (the corpus's own prior)
    prior shift   the probabilities moved from the model's prior to the label shares of the second wave
                  (articles written to look like real coverage), p(y|x) * share(y) / prior(y)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.real import first_wave  # noqa: E402
from bench.transfer import Benchmark  # noqa: E402
from pipeline import realnews  # noqa: E402
from pipeline.files import write_text  # noqa: E402
from pipeline.metrics import selection_score  # noqa: E402
from pipeline.report import markdown_table  # noqa: E402
from pipeline.splits import split_by_article  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402

TFIDF, BOTH = "tfidf-logreg", "tfidf-embeddings-logreg"
BALANCED, UNWEIGHTED = {"C": 3.0, "class_weight": "balanced"}, {"C": 3.0, "class_weight": None}
BOTH_BALANCED = {**BALANCED, "embedding_weight": 1.0}
BOTH_UNWEIGHTED = {**UNWEIGHTED, "embedding_weight": 1.0}
LEVERS = [  # (name, corpus, family, hyperparameters, prior shift)
    ("first wave, TF-IDF, balanced (the old default)", "first-wave", TFIDF, BALANCED, False),
    ("all, TF-IDF, balanced", "all", TFIDF, BALANCED, False),
    ("all, TF-IDF, balanced, prior shift", "all", TFIDF, BALANCED, True),
    ("all, TF-IDF, no class weights", "all", TFIDF, UNWEIGHTED, False),
    ("first wave, TF-IDF+MiniLM, balanced", "first-wave", BOTH, BOTH_BALANCED, False),
    ("all, TF-IDF+MiniLM, balanced", "all", BOTH, BOTH_BALANCED, False),
    ("all, TF-IDF+MiniLM, balanced, prior shift", "all", BOTH, BOTH_BALANCED, True),
    ("all, TF-IDF+MiniLM, no class weights (the default)", "all", BOTH, BOTH_UNWEIGHTED, False),
    ("all, TF-IDF+MiniLM, no class weights, prior shift", "all", BOTH, BOTH_UNWEIGHTED, True),
]


def shifted(proba: np.ndarray, classes, model_prior: np.ndarray, shares: dict) -> np.ndarray:
    target = np.array([shares[c] for c in classes])
    moved = proba * target / model_prior
    return moved / moved.sum(axis=1, keepdims=True)


def measure(bench: Benchmark, seeds: int) -> pd.DataFrame:
    corpus, real = bench.corpus, bench.real
    second_wave = corpus.drop(first_wave(corpus).index)
    shares = second_wave["label"].value_counts(normalize=True).to_dict()
    prepare = bench.params.prepare
    rows = []
    for name, which, family_name, hyperparams, shift in LEVERS:
        frame = first_wave(corpus) if which == "first-wave" else corpus
        scores = []
        for seed in range(seeds):
            train, test = split_by_article(frame, prepare.test_size, seed)
            train_rows = train.index.to_numpy()
            figures = []
            for target, embeddings in ((test, bench.embeddings[0][test.index]), (real, bench.embeddings[1])):
                classes, proba = bench.fit_proba(family_name, hyperparams, train_rows, target, embeddings)
                if shift:  # balanced weights fit a uniform prior; none, the training split's shares
                    uniform = np.full(len(classes), 1 / len(classes))
                    observed = np.array([(train["label"] == c).mean() for c in classes])
                    prior = uniform if hyperparams["class_weight"] == "balanced" else observed
                    proba = shifted(proba, classes, prior, shares)
                predicted = classes[proba.argmax(axis=1)]
                figures.append(predicted)
            own, on_real = figures
            called_reject = real["label"].to_numpy()[on_real == "reject"]
            scores.append([selection_score("macro_f1", test["label"], own),
                           selection_score("macro_f1", real["label"], on_real),
                           selection_score("f_avg", real["label"], on_real),
                           float(np.mean(called_reject == "reject")) if len(called_reject) else 0.0])
        mean, std = np.mean(scores, axis=0), np.std(scores, axis=0)
        rows.append({"lever": name, "own test macro-F1": f"{mean[0]:.3f} ± {std[0]:.3f}",
                     "real macro-F1": f"{mean[1]:.3f} ± {std[1]:.3f}",
                     "real f_avg": f"{mean[2]:.3f} ± {std[2]:.3f}",
                     "real reject precision": f"{mean[3]:.2f} ± {std[3]:.2f}"})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--real-news", type=Path,
                        default=ROOT.parent / "shared" / "benchmarks" / "realnews-dev")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "levers_results.md")
    args = parser.parse_args()
    bench = Benchmark(ROOT / "data" / "raw" / "sentences.csv", args.real_news, need_embeddings=True)
    if bench.real is None:
        print(f"skipped: no {realnews.FILE} in {args.real_news} (real news is not part of the repo)")
        return
    table = measure(bench, args.seeds)
    write_text(args.out, "\n".join([
        "# Levers for real-news accuracy", "",
        "Written by `make bench-levers` (`python bench/levers.py`); see its docstring for the protocol. "
        "Mean ± standard deviation "
        f"over {args.seeds} article splits of our corpus (seeds 0..{args.seeds - 1}); real news is the "
        f"{len(bench.real)} confident sentences of realnews-dev.", "",
        markdown_table(list(table.columns), list(table.itertuples(index=False))), "",
    ]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
