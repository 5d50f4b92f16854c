"""realnews-dev: real published news on our four targets, for measuring how a model trained on our corpus
transfers to real coverage. It is never trained on, never copied into the repo, and read from
../shared/benchmarks/realnews-dev/ at evaluation time; where it is absent, the figures are skipped.

Figures are on the rows both annotators rated clear or defensible (`confident`), with the same metrics
as our own test split, 95% intervals from resampling whole articles, and the share of page furniture the
model leaves neutral.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from pipeline import LABELS
from pipeline.files import InputError, repo_root
from pipeline.metrics import bootstrap_intervals, compute_metrics, selection_score
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN

FILE = "realnews_dev.csv"
COLUMNS = ("doc_id", "sentence_id", "text", "label", "target", "part", "confident")
INTERVALS = ("macro_f1", "f_avg", *(f"f1.{label}" for label in LABELS))


def locate(folder: str | Path) -> Path | None:
    """The data file, with a relative folder taken from the repository root (also inside `dvc exp run
    --temp`); None when it is not there."""
    folder = Path(folder)
    path = (folder if folder.is_absolute() else repo_root() / folder) / FILE
    return path if path.is_file() else None


def load(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    frame["confident"] = frame["confident"].str.lower() == "true"
    return frame


def evaluate(model, frame: pd.DataFrame, n_resamples: int, random_state: int) -> dict:
    """Metrics on the confident rows (with article-bootstrap intervals), the confusion matrix, macro-F1 on
    all rows, and how much page furniture stays neutral."""
    proba = model.predict_proba(frame[[TEXT_COLUMN, TARGET_COLUMN]])
    predicted = model.classes_[proba.argmax(axis=1)]
    confident = frame["confident"].to_numpy()
    y_true, y_pred = frame["label"].to_numpy()[confident], predicted[confident]
    metrics = compute_metrics(y_true, y_pred, proba[confident], model.classes_)
    intervals = bootstrap_intervals(y_true, y_pred, frame["doc_id"].to_numpy()[confident], n_resamples,
                                    random_state, metrics=INTERVALS)
    for name, (low, high) in intervals.items():
        if name.startswith("f1."):
            label = name.removeprefix("f1.")
            metrics["per_class"][label]["f1_ci_low"], metrics["per_class"][label]["f1_ci_high"] = low, high
        else:
            metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = low, high
    furniture = frame["part"].to_numpy() == "furniture"
    neutral_furniture = furniture & (frame["label"].to_numpy() == "neutral")
    metrics["furniture_neutral"] = float(np.mean(predicted[neutral_furniture] == "neutral"))
    metrics["all_rows_macro_f1"] = selection_score("macro_f1", frame["label"], predicted)
    metrics["n_articles"] = int(frame["doc_id"][confident].nunique())
    metrics["confusion"] = confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist()
    return metrics
