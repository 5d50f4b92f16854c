"""Stage `evaluate`: metrics with bootstrap intervals, calibration, behaviour checks, plots, an error table
and a readable report, on the held-out test articles (scored from raw text, as users score).

    python -m pipeline.evaluate models data/prepared reports/eval

Everything goes into one folder, written aside and moved into place only when complete, so a failure leaves
the last good evaluation where it was. dvc.yaml lists its metrics and plots files at top level.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, precision_recall_curve

from pipeline import LABELS, model_io, realnews
from pipeline.checklist import run_checks
from pipeline.data import read_split
from pipeline.files import atomic_dir, atomic_path, read_json, write_csv, write_json, write_text
from pipeline.metrics import bootstrap_intervals, compute_metrics, per_target, reliability, rounded
from pipeline.models.families import load_model
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.models.inspection import top_features
from pipeline.params import load_params
from pipeline.report import render_report
from pipeline.stage import argument_parser, run

log = logging.getLogger(__name__)

FIGURES = "figures"  # PNGs beside report.md, so its image links work in the repo and in MLflow
PLOTS = "plots"  # the data of the plots declared in dvc.yaml


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


HEADLINE = ("macro_f1", "f_avg", "accuracy", "ece", "real")


def headline_first(metrics: dict) -> dict:
    """The order `dvc exp show` and `dvc metrics diff` show: the headline figures, then the rest."""
    return {**{k: metrics[k] for k in HEADLINE if k in metrics}, **metrics}


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

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=list(LABELS), cmap="Blues", colorbar=False,
                                            ax=ax)
    ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix (test)")
    _save(fig, folder / "confusion_matrix.png")

    fig, ax = plt.subplots(figsize=(5, 4))
    for label, curve in curves.items():
        PrecisionRecallDisplay(precision=curve["precision"], recall=curve["recall"], name=label,
                               average_precision=metrics["per_class"][label]["average_precision"]).plot(ax=ax)
    ax.set(xlabel="recall", ylabel="precision", ylim=(0, 1.05), title="Precision-recall (test, one vs rest)")
    ax.legend(loc="lower left")
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
    parser = argument_parser(__doc__)
    parser.add_argument("models", help="folder with the model and its search report (train's output)")
    parser.add_argument("prepared", help="folder with the test split (the prepare stage's output)")
    parser.add_argument("out", help="folder for metrics, plots, figures, the error table and the report")
    args = parser.parse_args()
    params = load_params().evaluate

    model = load_model(Path(args.models) / model_io.MODEL_FILE)
    search = read_json(Path(args.models) / model_io.SEARCH_REPORT_FILE)
    test = read_split(args.prepared, "test")
    classes = model.classes_
    proba = model.predict_proba(test[[TEXT_COLUMN, TARGET_COLUMN]])
    y_true, y_pred = test["label"].to_numpy(), classes[proba.argmax(axis=1)]

    metrics = compute_metrics(y_true, y_pred, proba, classes)
    intervals = bootstrap_intervals(y_true, y_pred, test["doc_id"], params.bootstrap_resamples,
                                    params.random_state)
    for name, (low, high) in intervals.items():
        metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = low, high
    metrics["ece"], calibration = reliability(y_true, proba, classes, params.calibration_bins)
    metrics["behaviour"] = run_checks(model)
    curves = precision_recall_points(y_true, proba, classes)
    errors = error_table(test, y_pred, proba, classes)
    by_target = per_target(test, y_pred)
    real_news = realnews.locate(params.real_news)
    real_confusion = None
    if real_news is None:
        log.info("real-news figures skipped: no %s in %s", realnews.FILE, params.real_news)
    else:
        metrics["real"] = realnews.evaluate(model, realnews.load(real_news), params.bootstrap_resamples,
                                            params.random_state)
        metrics["real"]["gap_macro_f1"] = metrics["macro_f1"] - metrics["real"]["macro_f1"]
        real_confusion = metrics["real"].pop("confusion")

    with atomic_dir(args.out) as out:
        write_csv(out / PLOTS / "confusion.csv", pd.DataFrame({"actual": y_true, "predicted": y_pred}))
        for label, curve in curves.items():
            write_csv(out / PLOTS / f"precision_recall_{label}.csv", curve)
        write_csv(out / PLOTS / "reliability.csv", calibration)
        save_figures(y_true, y_pred, curves, calibration, metrics, out / FIGURES)
        write_csv(out / "errors.csv", errors)
        report = render_report(metrics, by_target, errors, top_features(model), search, FIGURES,
                               real_confusion)
        write_text(out / "report.md", report)
        write_json(out / "per_class.json", rounded(metrics.pop("per_class")))
        write_json(out / "per_target.json", rounded(by_target))
        write_json(out / "metrics.json", rounded(headline_first(metrics)))
    log.info(
        "test: accuracy %.3f, macro-F1 %.3f [%.3f, %.3f], f_avg %.3f [%.3f, %.3f], ECE %.3f on %d sentences",
        metrics["accuracy"], metrics["macro_f1"], *intervals["macro_f1"], metrics["f_avg"],
        *intervals["f_avg"], metrics["ece"], metrics["n_test"],
    )


if __name__ == "__main__":
    run(main)
