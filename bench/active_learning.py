"""Active-learning simulation: how many labels each `stance sample` strategy needs for a given macro-F1.

    python bench/active_learning.py [--seeds 5] [--batch 50] [--max-labels 800] [--out FILE]

Our corpus is split by article as the prepare stage splits it (params.yaml). For each seed, the labelled set
starts as 100 sentences drawn from 10 training articles; then each strategy (pipeline/sampling.py, the code
behind `stance sample`, margin uncertainty) picks batches of `--batch` sentences from the rest of the
training split, whose gold labels play the annotator, until `--max-labels`. As in `stance sample`, a batch
never holds two sentences with the same normalised text, nor one whose text is already labelled. After each
batch the default family (tfidf-embeddings-logreg) is refitted through the train stage's own code and scored
on the test split and on the confident rows of ../shared/benchmarks/realnews-dev (measured, never trained on
and never used to choose; skipped when absent).

What is refitted per round: the TF-IDF vocabulary and weights (on the labelled sentences only) and the
logistic regression. Fixed: the MiniLM embeddings (computed once for every sentence: the encoder is not
trained) and the hyperparameters (HYPERPARAMETERS below, what the search picks on the whole corpus; no
search per round). diverse-uncertainty clusters the MiniLM embeddings, as `stance sample` does for this
family.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfer import Benchmark  # noqa: E402
from pipeline import realnews  # noqa: E402
from pipeline.data import normalize_text  # noqa: E402
from pipeline.files import atomic_path, write_text  # noqa: E402
from pipeline.metrics import selection_score  # noqa: E402
from pipeline.report import markdown_table  # noqa: E402
from pipeline.sampling import STRATEGIES, choose  # noqa: E402
from pipeline.splits import split_by_article  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402

FAMILY = "tfidf-embeddings-logreg"
HYPERPARAMETERS = {"C": 10.0, "embedding_weight": 1.0, "class_weight": None}
SEED_ARTICLES, SEED_SENTENCES = 10, 100
TARGET_LABELS = 500  # the target: diverse-uncertainty matches random's best with at most this many


def seed_set(train: pd.DataFrame, seed: int) -> np.ndarray:
    """SEED_SENTENCES corpus rows drawn from SEED_ARTICLES training articles."""
    rng = np.random.default_rng(seed)
    articles = rng.choice(sorted(train["doc_id"].unique()), size=SEED_ARTICLES, replace=False)
    rows = train.index[train["doc_id"].isin(articles)].to_numpy()
    return np.sort(rng.choice(rows, size=min(SEED_SENTENCES, len(rows)), replace=False))


def unlabelled_pool(train: pd.DataFrame, labelled: np.ndarray, keys: pd.Series) -> np.ndarray:
    """Training rows a batch may pick: not labelled, text not labelled, one row per text."""
    rest = train.index[~train.index.isin(labelled)]
    rest = rest[~keys[rest].isin(set(keys[labelled])).to_numpy()]
    return rest[~keys[rest].duplicated().to_numpy()].to_numpy()


def learning_curve(bench: Benchmark, train: pd.DataFrame, test: pd.DataFrame, strategy: str, seed: int,
                   batch: int, max_labels: int) -> list[dict]:
    corpus, keys = bench.corpus, bench.corpus["text"].map(normalize_text)
    real = bench.real if bench.real is not None else test.iloc[:0]
    real_embeddings = bench.embeddings[1] if bench.real is not None else np.zeros((0, 384))
    labelled = seed_set(train, seed)
    points = []
    while True:
        pool = unlabelled_pool(train, labelled, keys)
        scored = pd.concat([corpus.loc[pool], test, real], ignore_index=True)
        embeddings = np.vstack([bench.embeddings[0][pool], bench.embeddings[0][test.index], real_embeddings])
        classes, proba = bench.fit_proba(FAMILY, HYPERPARAMETERS, labelled, scored, embeddings)
        predicted = classes[proba.argmax(axis=1)]
        on_test = predicted[len(pool):len(pool) + len(test)]
        point = {"strategy": strategy, "seed": seed, "labels": len(labelled),
                 "test": selection_score("macro_f1", test["label"], on_test)}
        if bench.real is not None:
            point["real"] = selection_score("macro_f1", real["label"], predicted[len(pool) + len(test):])
        points.append(point)
        if len(labelled) >= max_labels or not len(pool):
            return points
        picked = choose(proba[:len(pool)], min(batch, max_labels - len(labelled)), strategy, seed,
                        features=lambda rows, pool=pool: bench.embeddings[0][pool[rows]])
        labelled = np.sort(np.concatenate([labelled, pool[picked]]))


def labels_to_reach(curve: pd.Series, level: float) -> int | None:
    """The fewest labels at which a mean curve reaches `level` (None: never)."""
    reached = curve[curve >= level - 1e-9]
    return int(reached.index.min()) if len(reached) else None


def summary_lines(means: pd.DataFrame, measures: list[str], max_labels: int) -> list[str]:
    lines = []
    for measure in measures:
        level = means.loc[("random", max_labels), measure]
        for strategy in ("diverse-uncertainty", "uncertainty"):
            needed = labels_to_reach(means.loc[strategy, measure], level)
            verdict = (f"reaches it with {needed} labels" if needed is not None
                       else f"does not reach it within {max_labels}")
            met = needed is not None and needed <= TARGET_LABELS
            lines.append(f"- {measure}: random's mean macro-F1 at {max_labels} labels is {level:.3f}; "
                         f"{strategy} {verdict}" + (f" (target <= {TARGET_LABELS}: "
                                                    f"{'met' if met else 'not met'})"
                                                    if strategy == "diverse-uncertainty" else "") + ".")
    return lines


def plot(points: pd.DataFrame, measures: list[str], path: Path, seeds: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles = {"test": "our test split", "real": "realnews-dev (confident rows)"}
    figure, axes = plt.subplots(1, len(measures), figsize=(6 * len(measures), 4.2), squeeze=False)
    for axis, measure in zip(axes[0], measures, strict=True):
        for strategy in STRATEGIES:
            curve = points[points["strategy"] == strategy].groupby("labels")[measure].agg(["mean", "std"])
            axis.plot(curve.index, curve["mean"], marker="o", markersize=3, label=strategy)
            low, high = curve["mean"] - curve["std"], curve["mean"] + curve["std"]
            axis.fill_between(curve.index, low, high, alpha=0.2)
        axis.set_title(f"macro-F1 on {titles[measure]}")
        axis.set_xlabel("labelled sentences")
        axis.set_ylabel("macro-F1 (mean ± sd over seeds)")
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    figure.suptitle(f"Active learning on our corpus: {FAMILY}, {seeds} seeds")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, format="png", metadata={"Software": None})
    plt.close(figure)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--max-labels", type=int, default=800)
    parser.add_argument("--real-news", type=Path,
                        default=ROOT.parent / "shared" / "benchmarks" / "realnews-dev")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "active_learning_results.md")
    args = parser.parse_args()
    started = time.perf_counter()
    bench = Benchmark(ROOT / "data" / "raw" / "sentences.csv", args.real_news, need_embeddings=True)
    if bench.real is None:
        print(f"note: no {realnews.FILE} in {args.real_news}: real-news curves skipped")
    prepare = bench.params.prepare
    train, test = split_by_article(bench.corpus, prepare.test_size, prepare.random_state)
    rows = []
    for strategy in STRATEGIES:
        for seed in range(args.seeds):
            rows.extend(learning_curve(bench, train, test, strategy, seed, args.batch, args.max_labels))
            print(rows[-1], f"{time.perf_counter() - started:.0f} s", flush=True)
    points = pd.DataFrame(rows)
    measures = ["test"] + (["real"] if "real" in points else [])
    grouped = points.groupby(["strategy", "labels"])[measures]
    means, stds = grouped.mean(), grouped.std()
    header = ["labels"] + [f"{strategy} {measure}" for measure in measures for strategy in STRATEGIES]
    table = [[labels] + [f"{means.loc[(s, labels), m]:.3f} ± {stds.loc[(s, labels), m]:.3f}"
                         for m in measures for s in STRATEGIES]
             for labels in sorted(points["labels"].unique())]
    figure = args.out.with_suffix(".png")
    plot(points, measures, figure, args.seeds)
    write_text(args.out, "\n".join([
        "# Active learning: labels needed per sampling strategy", "",
        "Written by `make bench-active` (`python bench/active_learning.py`); the protocol is in its "
        f"docstring. Macro-F1 of {FAMILY} ({', '.join(f'{k}={v}' for k, v in HYPERPARAMETERS.items())}), "
        f"mean ± standard deviation over {args.seeds} seeds (seed set and random choices; the article "
        f"split is the prepare stage's). Start: {SEED_SENTENCES} sentences from {SEED_ARTICLES} training "
        f"articles; batches of {args.batch} from the {len(train)} training sentences; test split: "
        f"{len(test)} sentences"
        + (f"; real news: {len(bench.real)} confident realnews-dev sentences" if bench.real is not None
           else "")
        + ". Refitted per round: TF-IDF (on the labelled sentences) and the logistic regression; fixed: "
        "MiniLM embeddings and hyperparameters.", "",
        *summary_lines(means, measures, args.max_labels), "",
        f"![learning curves]({figure.name})", "",
        markdown_table(header, table), "",
        f"{len(points)} fits in {time.perf_counter() - started:.0f} s on this machine.", "",
    ]))
    print(f"wrote {args.out} and {figure}")


if __name__ == "__main__":
    main()
