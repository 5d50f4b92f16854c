"""The evaluation report: one Markdown page a person can read on its own (written by `evaluate`)."""

from __future__ import annotations

import pandas as pd

from pipeline import LABELS
from pipeline.checklist import CHECKS

N_ERRORS = 20
PER_LABEL = ("precision", "recall", "f1", "average_precision")


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _interval(values: dict, name: str) -> str:
    return f"{values[name + '_ci_low']:.3f} – {values[name + '_ci_high']:.3f}"


def real_news_section(real: dict | None, confusion: list[list[int]] | None) -> list[str]:
    """How the model transfers to real coverage (realnews-dev), or a line saying it was not measured."""
    if real is None:
        return ["## Real news (realnews-dev)",
                "Not measured: realnews-dev was not found (see `evaluate.real_news` in params.yaml)."]
    return [
        "## Real news (realnews-dev)",
        f"Real published coverage of our targets ({real['n_test']} confident sentences of "
        f"{real['n_articles']} articles; never trained on). Intervals resample whole articles. The gap is "
        "own test minus real news.",
        markdown_table(["metric", "value", "95% interval"], [
            ["macro-F1", f"{real['macro_f1']:.3f}", _interval(real, "macro_f1")],
            ["f_avg", f"{real['f_avg']:.3f}", _interval(real, "f_avg")],
            ["accuracy", f"{real['accuracy']:.3f}", ""],
            ["gap in macro-F1 (own test − real)", f"{real['gap_macro_f1']:+.3f}", ""],
            ["macro-F1 on all rows (not only confident)", f"{real['all_rows_macro_f1']:.3f}", ""],
            ["neutral page furniture left neutral", f"{real['furniture_neutral']:.1%}", ""],
        ]),
        markdown_table(["label", "precision", "recall", "F1", "F1 95% interval", "n"], [
            [label, *(f"{real['per_class'][label][k]:.3f}" for k in ("precision", "recall", "f1")),
             _interval(real["per_class"][label], "f1"), real["per_class"][label]["n"]] for label in LABELS
        ]),
        "Confusion matrix (rows: actual, columns: predicted):",
        confusion_table(confusion),
    ]


def confusion_table(confusion: list[list[int]]) -> str:
    """A confusion matrix in LABELS order, rows actual and columns predicted."""
    return markdown_table(["actual \\ predicted", *LABELS],
                          [[label, *row] for label, row in zip(LABELS, confusion, strict=True)])


def render_report(metrics: dict, by_target: dict, errors: pd.DataFrame, top: dict, search: dict,
                  figures: str, real_confusion: list[list[int]] | None = None) -> str:
    """The page; `figures` is the folder of the PNG figures relative to the report."""
    def figure(name: str) -> str:
        return f"{figures}/{name}"

    chosen = ", ".join(f"{k}={v}" for k, v in search["chosen"].items())
    parts = [
        "# Stance model evaluation",
        f"Model family **{search['family']}** with {chosen}, chosen by {search['cv_folds']}-fold "
        f"cross-validation grouped by article on the training split ({search['metric']}). "
        f"Everything below is measured once, on the {metrics['n_test']} sentences of the held-out test "
        "articles, except the real-news section.",
        "## Headline numbers",
        "Intervals are 95% bootstrap intervals over test articles (articles resampled with replacement).",
        markdown_table(["metric", "value", "95% interval"], [
            ["macro-F1", f"{metrics['macro_f1']:.3f}", _interval(metrics, "macro_f1")],
            ["f_avg (mean F1 of support and reject)", f"{metrics['f_avg']:.3f}", _interval(metrics, "f_avg")],
            ["accuracy", f"{metrics['accuracy']:.3f}", ""],
            ["expected calibration error", f"{metrics['ece']:.3f}", ""],
        ]),
        "## Per label",
        markdown_table(["label", "precision", "recall", "F1", "average precision", "n"], [
            [label, *(f"{metrics['per_class'][label][k]:.3f}" for k in PER_LABEL),
             metrics["per_class"][label]["n"]] for label in LABELS
        ]),
        *real_news_section(metrics.get("real"), real_confusion),
        "## Per target",
        markdown_table(["target", "macro-F1", "f_avg", "accuracy", "n"], [
            [target, f"{m['macro_f1']:.3f}", f"{m['f_avg']:.3f}", f"{m['accuracy']:.3f}", m["n"]]
            for target, m in sorted(by_target.items())
        ]),
        "## Behaviour checks",
        "Pass rates on sentences written for these checks (see `pipeline/checklist.py`); the floor is the "
        "rate the tests hold the default model to.",
        markdown_table(["check", "pass rate", "floor"], [
            [check.description, f"{metrics['behaviour'][check.name]:.0%}", f"{check.floor:.0%}"]
            for check in CHECKS
        ]),
        "## Plots",
        f"![Confusion matrix]({figure('confusion_matrix.png')}) "
        f"![Precision-recall]({figure('precision_recall.png')}) "
        f"![Reliability diagram]({figure('reliability.png')})",
        f"## The {N_ERRORS} most confident errors",
        markdown_table(["doc", "text", "label", "predicted", "p(predicted)"], [
            [row.doc_id, _cell(row.text), row.label, row.predicted,
             f"{getattr(row, 'p_' + row.predicted):.2f}"]
            for row in errors.head(N_ERRORS).itertuples()
        ]) if len(errors) else "No errors on the test split.",
        "## Features that drive each label",
    ]
    if top:
        parts.append("Largest weights of the linear model (`words__` word n-grams, `chars__` character "
                     "n-grams; shared block for target-aware models).")
        for label, features in top.items():
            shown = ", ".join(f"`{_cell(name)}` ({weight:+.2f})" for name, weight in features)
            parts.append(f"**{label}**: {shown}")
    else:
        parts.append("This family has no readable feature weights (sentence-embedding dimensions).")
    parts += [
        "## Model search",
        markdown_table(["candidate", f"mean {search['metric']}", "std", "chosen"], [
            [", ".join(f"{k}={v}" for k, v in c["params"].items()), f"{c['mean']:.4f}", f"{c['std']:.4f}",
             "✔" if i == search["best"] else ""]
            for i, c in enumerate(search["candidates"])
        ]),
    ]
    return "\n\n".join(parts) + "\n"
