"""Two models on the same sentences: is the difference between them more than the test set's noise?

    python bench/paired.py MODEL_A MODEL_B [--prepared data/prepared] [--params params.yaml]

MODEL_A and MODEL_B are .skops files or MLflow model URIs (`models:/stance-classifier/3`). Both score our
test split (the prepare stage's) and the confident rows of realnews-dev (params.yaml's evaluate.real_news;
skipped when absent). For each: both macro-F1s, B - A, the 95% interval of B - A from resampling whole
articles (the same resamples for both models, so what they share cancels), and how many labels differ.
Each model is scored as trained; a difference comes from everything that differs between the two runs.
A model trained on another corpus or split may have seen some of today's test articles: compare models
trained on the same split.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import realnews  # noqa: E402
from pipeline.data import read_split  # noqa: E402
from pipeline.metrics import article_resamples, selection_score  # noqa: E402
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN  # noqa: E402
from pipeline.params import load_params  # noqa: E402
from pipeline.scoring import load_model  # noqa: E402
from pipeline.stage import argument_parser, run  # noqa: E402


def compare(models: list, frame: pd.DataFrame, n_resamples: int, random_state: int) -> str:
    y_true, articles = frame["label"].to_numpy(), frame["doc_id"].to_numpy()
    first, second = (model.predict(frame[[TEXT_COLUMN, TARGET_COLUMN]]) for model in models)

    def gain(rows):
        return (selection_score("macro_f1", y_true[rows], second[rows])
                - selection_score("macro_f1", y_true[rows], first[rows]))

    draws = [gain(rows) for rows in article_resamples(articles, n_resamples, random_state)]
    low, high = np.percentile(draws, [2.5, 97.5])
    scores = [selection_score("macro_f1", y_true, predicted) for predicted in (first, second)]
    return (f"A {scores[0]:.4f}, B {scores[1]:.4f}, B - A {gain(np.arange(len(frame))):+.4f} "
            f"(95%: {low:+.4f} to {high:+.4f}); {int((first != second).sum())} of {len(frame)} labels differ")


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("models", nargs=2, metavar="MODEL")
    parser.add_argument("--prepared", default=str(ROOT / "data" / "prepared"))
    parser.add_argument("--params", default=str(ROOT / "params.yaml"))
    args = parser.parse_args()
    params = load_params(args.params).evaluate
    models = [load_model(model) for model in args.models]
    sets = {"our test split": read_split(args.prepared, "test")}
    path = realnews.locate(params.real_news)
    if path is None:
        print(f"realnews-dev skipped: not found in {params.real_news}")
    else:
        real = realnews.load(path)
        sets["realnews-dev (confident rows)"] = real[real["confident"]].reset_index(drop=True)
    print(f"A = {args.models[0]}\nB = {args.models[1]}")
    for name, frame in sets.items():
        print(f"{name}: {compare(models, frame, params.bootstrap_resamples, params.random_state)}")


if __name__ == "__main__":
    run(main)
