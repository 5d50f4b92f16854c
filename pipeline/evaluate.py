"""Stage `evaluate`: metrics, plots and an error table on the held-out test articles."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
)

from pipeline import LABELS, model_io
from pipeline.data import read_split
from pipeline.files import atomic_path, write_csv, write_json
from pipeline.stage import run

log = logging.getLogger(__name__)


def compute_metrics(y_true, y_pred, proba: np.ndarray, classes) -> dict:
    """Accuracy, macro-F1, f_avg = mean F1 of support and reject (the usual stance metric), per class."""
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
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(np.mean(f1)),
        "f_avg": float((per_class["support"]["f1"] + per_class["reject"]["f1"]) / 2),
        "n_test": int(len(y_true)),
        "per_class": per_class,
    }


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


def save_figures(y_true, y_pred, curves: dict[str, pd.DataFrame], metrics: dict, folder: Path) -> None:
    """PNG copies of the plots, viewable offline (`dvc plots show` loads Vega from a CDN)."""
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
    fig.tight_layout()
    with atomic_path(folder / "confusion_matrix.png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 4))
    for label, curve in curves.items():
        ap = metrics["per_class"][label]["average_precision"]
        ax.step(curve["recall"], curve["precision"], where="post", label=f"{label} (AP {ap:.2f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left")
    ax.set_title("Precision-recall (test, one vs rest)")
    fig.tight_layout()
    with atomic_path(folder / "precision_recall.png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="trained model (.skops)")
    parser.add_argument("test_matrix", help="test features (.npz)")
    parser.add_argument("test", help="test split CSV")
    parser.add_argument("--metrics", required=True, help="metrics JSON to write")
    parser.add_argument("--plots", required=True, help="folder for the DVC plot data")
    parser.add_argument("--figures", required=True, help="folder for PNG figures")
    parser.add_argument("--errors", required=True, help="error table CSV to write")
    args = parser.parse_args()

    model = model_io.load(args.model)
    test = read_split(args.test)
    classes = model.classes_
    proba = model[-1].predict_proba(sparse.load_npz(args.test_matrix))
    y_true, y_pred = test["label"].to_numpy(), classes[proba.argmax(axis=1)]

    metrics = compute_metrics(y_true, y_pred, proba, classes)
    curves = precision_recall_points(y_true, proba, classes)
    plots = Path(args.plots)
    write_csv(plots / "confusion.csv", pd.DataFrame({"actual": y_true, "predicted": y_pred}))
    for label, curve in curves.items():
        write_csv(plots / f"precision_recall_{label}.csv", curve)
    save_figures(y_true, y_pred, curves, metrics, Path(args.figures))
    write_csv(args.errors, error_table(test, y_pred, proba, classes))
    write_json(args.metrics, rounded(metrics))
    log.info(
        "test: accuracy %.3f, macro-F1 %.3f, f_avg %.3f on %d sentences",
        metrics["accuracy"], metrics["macro_f1"], metrics["f_avg"], metrics["n_test"],
    )


if __name__ == "__main__":
    run(main)
