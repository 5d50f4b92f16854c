"""Metrics, computed the same way by the search (`train`), the evaluation and the benchmarks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, f1_score, precision_recall_fscore_support

from pipeline import LABELS, SELECTION_METRICS, STANCE_LABELS


def _f1_by_label(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F1 of each label in LABELS order, 0 where undefined (a label neither true nor predicted)."""
    return f1_score(y_true, y_pred, labels=list(LABELS), average=None, zero_division=0)


def selection_score(metric: str, y_true, y_pred) -> float:
    """One number per run: macro_f1, f_avg (mean F1 of support and reject) or accuracy."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if metric == "accuracy":
        return float(np.mean(y_true == y_pred))
    f1 = _f1_by_label(y_true, y_pred)
    if metric == "f_avg":
        return float(np.mean([f1[LABELS.index(label)] for label in STANCE_LABELS]))
    return float(np.mean(f1))


def compute_metrics(y_true, y_pred, proba: np.ndarray, classes) -> dict:
    """Accuracy, macro-F1, f_avg, and precision / recall / F1 / average precision / n per label."""
    precision, recall, f1, count = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    per_class = {}
    for i, label in enumerate(LABELS):
        is_label = np.asarray(y_true) == label
        column = list(classes).index(label)
        per_class[label] = {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "average_precision": float(average_precision_score(is_label, proba[:, column]))
            if is_label.any()
            else 0.0,
            "n": int(count[i]),
        }
    return {
        **{metric: selection_score(metric, y_true, y_pred) for metric in ("accuracy", "macro_f1", "f_avg")},
        "n_test": int(len(y_true)),
        "per_class": per_class,
    }


def scores(y_true, y_pred) -> dict[str, float]:
    """Every score an interval can be asked for: accuracy, macro_f1, f_avg and f1.<label>."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    f1 = _f1_by_label(y_true, y_pred)
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "macro_f1": float(np.mean(f1)),
        "f_avg": float(np.mean([f1[LABELS.index(label)] for label in STANCE_LABELS])),
        **{f"f1.{label}": float(f1[i]) for i, label in enumerate(LABELS)},
    }


def bootstrap_intervals(y_true, y_pred, articles, n_resamples: int, random_state: int,
                        metrics=("macro_f1", "f_avg")) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of `metrics` (names of `scores`) from resampling whole articles with
    replacement. Sentences of one article are not independent; resampling articles keeps that in the interval.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    draws = {metric: [] for metric in metrics}
    for rows in article_resamples(articles, n_resamples, random_state):
        drawn = scores(y_true[rows], y_pred[rows])
        for metric in metrics:
            draws[metric].append(drawn[metric])
    return {m: (float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))) for m, d in draws.items()}


def article_resamples(articles, n_resamples: int, random_state: int) -> Iterator[np.ndarray]:
    """The rows of each resample: whole articles drawn with replacement, as many as there are."""
    articles = np.asarray(articles)
    rows_of = [np.flatnonzero(articles == a) for a in pd.unique(articles)]
    rng = np.random.default_rng(random_state)
    for _ in range(n_resamples):
        yield np.concatenate([rows_of[i] for i in rng.integers(0, len(rows_of), len(rows_of))])


def reliability(y_true, proba: np.ndarray, classes, n_bins: int = 10) -> tuple[float, pd.DataFrame]:
    """Expected calibration error of the top-label confidence, and the reliability-diagram bins."""
    confidence = proba.max(axis=1)
    correct = np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y_true)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    rows = []
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            rows.append({"bin": f"{b / n_bins:.1f}-{(b + 1) / n_bins:.1f}",
                         "confidence": confidence[in_bin].mean(), "accuracy": correct[in_bin].mean(),
                         "count": int(in_bin.sum())})
    table = pd.DataFrame(rows, columns=["bin", "confidence", "accuracy", "count"])
    ece = float((table["count"] * (table["confidence"] - table["accuracy"]).abs()).sum() / len(confidence))
    return ece, table.round(4)


def per_target(frame: pd.DataFrame, y_pred) -> dict:
    """Accuracy, macro-F1 and f_avg for each target of a labelled frame."""
    result = {}
    for target, rows in frame.groupby("target").indices.items():
        truth, predicted = frame["label"].to_numpy()[rows], np.asarray(y_pred)[rows]
        result[target] = {m: selection_score(m, truth, predicted) for m in SELECTION_METRICS}
        result[target]["n"] = int(len(rows))
    return result


def rounded(metrics: dict, digits: int = 4) -> dict:
    """Four decimals: enough to compare runs, short enough for `dvc metrics diff`."""
    return {k: rounded(v, digits) if isinstance(v, dict) else round(v, digits) for k, v in metrics.items()}
