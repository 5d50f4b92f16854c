"""Evaluation metrics against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluate import compute_metrics, error_table

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
