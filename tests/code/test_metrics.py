"""Evaluation metrics against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluate import error_table
from pipeline.metrics import bootstrap_intervals, compute_metrics, per_target, reliability, selection_score

CLASSES = np.array(["neutral", "reject", "support"])


def one_hot(labels):
    return np.array([[1.0 if c == label else 0.0 for c in CLASSES] for label in labels])


def test_metrics_match_hand_computation():
    y_true = ["support", "support", "reject", "reject", "neutral", "neutral"]
    y_pred = ["support", "reject", "reject", "reject", "neutral", "support"]
    metrics = compute_metrics(y_true, y_pred, one_hot(y_pred), CLASSES)
    # support: P=1/2 R=1/2 F1=1/2; reject: P=2/3 R=1 F1=4/5; neutral: P=1 R=1/2 F1=2/3
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["per_class"]["support"]["f1"] == pytest.approx(0.5)
    assert metrics["per_class"]["reject"]["f1"] == pytest.approx(0.8)
    assert metrics["per_class"]["neutral"]["f1"] == pytest.approx(2 / 3)
    assert metrics["f_avg"] == pytest.approx((0.5 + 0.8) / 2)
    assert metrics["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert metrics["per_class"]["reject"]["n"] == 2


def test_f_avg_ignores_neutral():
    y_true = ["support", "reject", "neutral", "neutral"]
    perfect_neutral = compute_metrics(y_true, ["reject", "support", "neutral", "neutral"],
                                      one_hot(["reject", "support", "neutral", "neutral"]), CLASSES)
    assert perfect_neutral["f_avg"] == 0.0
    assert perfect_neutral["per_class"]["neutral"]["f1"] == 1.0


def test_error_table_lists_only_mistakes_most_confident_first():
    test = pd.DataFrame({
        "doc_id": ["a", "a", "b"], "sentence_id": ["1", "2", "3"],
        "text": ["x", "y", "z"], "label": ["support", "reject", "neutral"],
    })
    proba = np.array([[0.1, 0.6, 0.3], [0.0, 0.9, 0.1], [0.05, 0.05, 0.9]])
    table = error_table(test, CLASSES[proba.argmax(axis=1)], proba, CLASSES)
    assert list(table["sentence_id"]) == ["3", "1"]
    assert list(table.columns) == ["doc_id", "sentence_id", "text", "label", "predicted",
                                   "p_support", "p_reject", "p_neutral"]


def test_selection_scores_match_the_full_metrics():
    y_true = ["support", "support", "reject", "reject", "neutral", "neutral"]
    y_pred = ["support", "reject", "reject", "reject", "neutral", "support"]
    full = compute_metrics(y_true, y_pred, one_hot(y_pred), CLASSES)
    for metric in ("macro_f1", "f_avg", "accuracy"):
        assert selection_score(metric, y_true, y_pred) == pytest.approx(full[metric])


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(0)
    y_true = rng.choice(CLASSES, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.choice(CLASSES, 300))
    articles = np.repeat([f"a{i}" for i in range(30)], 10)
    intervals = bootstrap_intervals(y_true, y_pred, articles, 300, random_state=1)
    for metric, (low, high) in intervals.items():
        assert low < selection_score(metric, y_true, y_pred) < high
    assert intervals == bootstrap_intervals(y_true, y_pred, articles, 300, random_state=1)


def test_bootstrap_resamples_whole_articles():
    """With one article all right and one all wrong, a resample is 0%, 50% or 100% right, never between."""
    y_true = np.array(["support"] * 5 + ["reject"] * 5)
    y_pred = np.array(["support"] * 5 + ["support"] * 5)
    articles = np.array(["good"] * 5 + ["bad"] * 5)
    low, high = bootstrap_intervals(y_true, y_pred, articles, 200, 0, metrics=("accuracy",))["accuracy"]
    assert (low, high) == (0.0, 1.0)


def test_calibration_error_is_zero_when_confidence_matches_accuracy_and_large_when_not():
    y_true = ["support", "reject", "neutral", "support"]
    confident_right = one_hot(y_true)
    assert reliability(y_true, confident_right, CLASSES)[0] == pytest.approx(0.0)
    confident_wrong = one_hot(["reject", "support", "support", "neutral"])
    ece, table = reliability(y_true, confident_wrong, CLASSES)
    assert ece == pytest.approx(1.0)
    assert list(table.columns) == ["bin", "confidence", "accuracy", "count"]


def test_per_target_metrics():
    test = pd.DataFrame({"target": ["a", "a", "b", "b"],
                         "label": ["support", "reject", "neutral", "support"]})
    result = per_target(test, ["support", "reject", "support", "support"])
    assert result["a"]["accuracy"] == 1.0 and result["a"]["n"] == 2
    assert result["b"]["accuracy"] == 0.5
