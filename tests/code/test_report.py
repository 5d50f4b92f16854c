"""The evaluation report (pipeline/report.py): every section, readable tables, real news present or not."""

import pandas as pd

from pipeline import LABELS
from pipeline.checklist import CHECKS
from pipeline.report import render_report

PER_LABEL = {"precision": 0.5, "recall": 0.25, "f1": 0.333, "average_precision": 0.6, "n": 4}
METRICS = {
    "accuracy": 0.8, "macro_f1": 0.75, "f_avg": 0.7, "n_test": 12, "macro_f1_ci_low": 0.6,
    "macro_f1_ci_high": 0.9, "f_avg_ci_low": 0.5, "f_avg_ci_high": 0.85, "ece": 0.05,
    "behaviour": {check.name: 0.5 for check in CHECKS},
    "per_class": {label: PER_LABEL for label in LABELS},
}
REAL = {
    "macro_f1": 0.61, "macro_f1_ci_low": 0.5, "macro_f1_ci_high": 0.7, "f_avg": 0.48, "f_avg_ci_low": 0.3,
    "f_avg_ci_high": 0.6, "accuracy": 0.77, "gap_macro_f1": 0.14, "all_rows_macro_f1": 0.6,
    "furniture_neutral": 0.885, "n_test": 233, "n_articles": 18,
    "per_class": {label: {**PER_LABEL, "f1_ci_low": 0.1, "f1_ci_high": 0.5} for label in LABELS},
}
SEARCH = {"family": "tfidf-logreg", "chosen": {"C": 3.0}, "cv_folds": 5, "metric": "macro_f1", "best": 1,
          "candidates": [{"params": {"C": 1.0}, "mean": 0.7, "std": 0.01},
                         {"params": {"C": 3.0}, "mean": 0.72, "std": 0.02}]}
ERRORS = pd.DataFrame({"doc_id": ["art-1"], "text": ["A | piped\nsentence"], "label": ["neutral"],
                       "predicted": ["reject"], "p_support": [0.1], "p_reject": [0.7], "p_neutral": [0.2]})
TOP = {"support": [("words__welcomed", 1.5)], "reject": [("words__refused", 2.0)],
       "neutral": [("words__met", 0.9)]}


def render(metrics=METRICS, confusion=None, errors=ERRORS, top=TOP):
    return render_report(metrics, {"ankara-damascus-normalization": {"macro_f1": 0.7, "f_avg": 0.6,
                                                                     "accuracy": 0.8, "n": 12}},
                         errors, top, SEARCH, "figures", confusion)


def test_every_section_and_figure_link_is_there():
    page = render()
    for section in ("# Stance model evaluation", "## Headline numbers", "## Per label", "## Per target",
                    "## Behaviour checks", "## Plots", "most confident errors",
                    "## Features that drive each label", "## Model search"):
        assert section in page
    assert "| macro-F1 | 0.750 | 0.600 – 0.900 |" in page
    assert "](figures/reliability.png)" in page
    assert "| C=3.0 | 0.7200 | 0.0200 | ✔ |" in page


def test_every_behaviour_check_appears_with_its_description_and_floor():
    page = render()
    for check in CHECKS:
        assert f"| {check.description} | 50% | {check.floor:.0%} |" in page


def test_error_text_cannot_break_the_table():
    assert "| art-1 | A \\| piped sentence | neutral | reject | 0.70 |" in render()


def test_real_news_section_when_measured_and_when_not():
    assert "Not measured: realnews-dev was not found" in render()
    page = render({**METRICS, "real": REAL}, confusion=[[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert "233 confident sentences of 18 articles" in page
    assert "| gap in macro-F1 (own test − real) | +0.140 |  |" in page
    assert "| neutral page furniture left neutral | 88.5% |  |" in page
    assert "| reject | 0.500 | 0.250 | 0.333 | 0.100 – 0.500 | 4 |" in page
    assert "| support | 1 | 2 | 3 |" in page


def test_a_family_without_readable_weights_says_so():
    assert "no readable feature weights" in render(top={})
