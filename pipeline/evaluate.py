"""Stage `evaluate`: metrics with bootstrap intervals, calibration, behaviour checks, plots, an error table
and a readable report, on the held-out test articles (scored from raw text, as users score)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
)

from pipeline import LABELS, model_io
from pipeline.checklist import run_checks
from pipeline.data import read_split
from pipeline.files import atomic_path, read_json, write_csv, write_json, write_text
from pipeline.model import TARGET_COLUMN, TEXT_COLUMN, top_features
from pipeline.params import load_params
from pipeline.report import render_report
from pipeline.stage import run

log = logging.getLogger(__name__)


SELECTION_METRICS = ("macro_f1", "f_avg", "accuracy")
STANCE_LABELS = ("support", "reject")  # f_avg, the usual stance metric, averages F1 over these two


def _f1_by_label(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F1 of each label in LABELS order (0 where undefined), fast enough to bootstrap."""
    true_ids = pd.Categorical(y_true, categories=LABELS).codes
    pred_ids = pd.Categorical(y_pred, categories=LABELS).codes
    n = len(LABELS)
    counts = np.bincount(true_ids * n + pred_ids, minlength=n * n).reshape(n, n)
    tp = np.diag(counts).astype(float)
    denominator = counts.sum(axis=0) + counts.sum(axis=1)
    return np.divide(2 * tp, denominator, out=np.zeros(n), where=denominator > 0)


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
        "accuracy": selection_score("accuracy", y_true, y_pred),
        "macro_f1": selection_score("macro_f1", y_true, y_pred),
        "f_avg": selection_score("f_avg", y_true, y_pred),
        "n_test": int(len(y_true)),
        "per_class": per_class,
    }


def bootstrap_intervals(y_true, y_pred, articles, n_resamples: int, random_state: int,
                        metrics=("macro_f1", "f_avg")) -> dict[str, tuple[float, float]]:
    """95% percentile intervals from resampling whole test articles with replacement.

    Sentences of one article are not independent; resampling articles keeps that in the interval.
    """
    y_true, y_pred, articles = np.asarray(y_true), np.asarray(y_pred), np.asarray(articles)
    rows_of = [np.flatnonzero(articles == a) for a in pd.unique(articles)]
    rng = np.random.default_rng(random_state)
    draws = {metric: [] for metric in metrics}
    for _ in range(n_resamples):
        rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(rows_of), len(rows_of))])
        for metric in metrics:
            draws[metric].append(selection_score(metric, y_true[rows], y_pred[rows]))
    return {m: (float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))) for m, d in draws.items()}


def reliability(y_true, proba: np.ndarray, classes, n_bins: int = 10) -> tuple[float, pd.DataFrame]:
    """Expected calibration error of the top-label confidence, and the reliability-diagram bins."""
    confidence = proba.max(axis=1)
    correct = np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y_true)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    rows = []
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            rows.append({"bin": f"{b / n_bins:.1f}-{(b + 1) / n_bins:.1f}", "confidence": confidence[in_bin].mean(),
                         "accuracy": correct[in_bin].mean(), "count": int(in_bin.sum())})
    table = pd.DataFrame(rows, columns=["bin", "confidence", "accuracy", "count"])
    ece = float((table["count"] * (table["confidence"] - table["accuracy"]).abs()).sum() / len(confidence))
    return ece, table.round(4)


def per_target(test: pd.DataFrame, y_pred) -> dict:
    """Accuracy, macro-F1 and f_avg for each target in the test split."""
    result = {}
    for target, rows in test.groupby("target").indices.items():
        truth, predicted = test["label"].to_numpy()[rows], np.asarray(y_pred)[rows]
        result[target] = {m: selection_score(m, truth, predicted) for m in SELECTION_METRICS}
        result[target]["n"] = int(len(rows))
    return result


def rounded(metrics: dict, digits: int = 4) -> dict:
    """Four decimals: enough to compare runs, short enough for `dvc metrics diff`."""
    return {k: rounded(v, digits) if isinstance(v, dict) else round(v, digits) for k, v in metrics.items()}


def precision_recall_points(y_true, proba: np.ndarray, classes) -> dict[str, pd.DataFrame]:
    """One-vs-rest precision-recall curve per label."""
    curves = {}
    for label in LABELS:
        precision, recall, _ = precision_recall_curve(
            np.asarray(y_true) == label, proba[:, list(classes).index(label)]
        )
        curves[label] = pd.DataFrame({"recall": recall, "precision": precision}).round(4)
    return curves


def error_table(test: pd.DataFrame, y_pred, proba: np.ndarray, classes) -> pd.DataFrame:
    """Misclassified test sentences, the most confidently wrong first."""
    table = test[["doc_id", "sentence_id", "text", "label"]].copy()
    table["predicted"] = y_pred
    for label in LABELS:  # the column order of `stance score`
        table[f"p_{label}"] = proba[:, list(classes).index(label)].round(4)
    table["confidence"] = proba.max(axis=1).round(4)
    wrong = table[table["label"] != table["predicted"]]
    return wrong.sort_values("confidence", ascending=False).drop(columns="confidence")


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def save_figures(y_true, y_pred, curves: dict[str, pd.DataFrame], calibration: pd.DataFrame, metrics: dict,
                 folder: Path) -> None:
    """PNG copies of the plots for the report, viewable offline (`dvc plots show` loads Vega from a CDN)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = confusion_matrix(y_true, y_pred, labels=list(LABELS))
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black")
    ax.set_title("Confusion matrix (test)")
    _save(fig, folder / "confusion_matrix.png")

    fig, ax = plt.subplots(figsize=(5, 4))
    for label, curve in curves.items():
        ap = metrics["per_class"][label]["average_precision"]
        ax.step(curve["recall"], curve["precision"], where="post", label=f"{label} (AP {ap:.2f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left")
    ax.set_title("Precision-recall (test, one vs rest)")
    _save(fig, folder / "precision_recall.png")

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(calibration["confidence"], calibration["accuracy"], marker="o", label="model")
    for _, row in calibration.iterrows():
        ax.annotate(str(row["count"]), (row["confidence"], row["accuracy"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=7)
    ax.set_xlabel("confidence (top label probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper left")
    ax.set_title(f"Reliability (ECE {metrics['ece']:.3f})")
    _save(fig, folder / "reliability.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="trained model (.skops)")
    parser.add_argument("test", help="test split CSV")
    parser.add_argument("--search", required=True, help="search report written by `train` (JSON)")
    parser.add_argument("--metrics", required=True, help="headline metrics JSON to write")
    parser.add_argument("--per-class", required=True, help="per-label metrics JSON to write")
    parser.add_argument("--per-target", required=True, help="per-target metrics JSON to write")
    parser.add_argument("--plots", required=True, help="folder for the DVC plot data")
    parser.add_argument("--figures", required=True, help="folder for PNG figures")
    parser.add_argument("--errors", required=True, help="error table CSV to write")
    parser.add_argument("--report", required=True, help="evaluation report (Markdown) to write")
    args = parser.parse_args()
    params = load_params("evaluate")

    model = model_io.load(args.model)
    test = read_split(args.test)
    classes = model.classes_
    proba = model.predict_proba(test[[TEXT_COLUMN, TARGET_COLUMN]])
    y_true, y_pred = test["label"].to_numpy(), classes[proba.argmax(axis=1)]

    metrics = compute_metrics(y_true, y_pred, proba, classes)
    intervals = bootstrap_intervals(y_true, y_pred, test["doc_id"], params["bootstrap_resamples"],
                                    params["random_state"])
    for name, (low, high) in intervals.items():
        metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = low, high
    metrics["ece"], calibration = reliability(y_true, proba, classes, params["calibration_bins"])
    metrics["behaviour"] = run_checks(model)
    curves = precision_recall_points(y_true, proba, classes)
    errors = error_table(test, y_pred, proba, classes)

    plots, figures = Path(args.plots), Path(args.figures)
    write_csv(plots / "confusion.csv", pd.DataFrame({"actual": y_true, "predicted": y_pred}))
    for label, curve in curves.items():
        write_csv(plots / f"precision_recall_{label}.csv", curve)
    write_csv(plots / "reliability.csv", calibration)
    save_figures(y_true, y_pred, curves, calibration, metrics, figures)
    write_csv(args.errors, errors)
    by_target = per_target(test, y_pred)
    write_text(args.report, render_report(
        metrics, by_target, errors, top_features(model), read_json(args.search), figures, Path(args.report).parent,
    ))
    write_json(args.per_class, rounded(metrics.pop("per_class")))
    write_json(args.per_target, rounded(by_target))
    write_json(args.metrics, rounded(metrics))
    log.info(
        "test: accuracy %.3f, macro-F1 %.3f [%.3f, %.3f], f_avg %.3f [%.3f, %.3f], ECE %.3f on %d sentences",
        metrics["accuracy"], metrics["macro_f1"], *intervals["macro_f1"], metrics["f_avg"], *intervals["f_avg"],
        metrics["ece"], metrics["n_test"],
    )


if __name__ == "__main__":
    run(main)
