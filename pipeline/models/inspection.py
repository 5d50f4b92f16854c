"""What a fitted model uses, and which features drive its labels (for the report)."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from pipeline.models.families import RAW_TEXT


def minilm_runtime(model: Pipeline) -> str | None:
    """What runs the model's MiniLM when it scores: "openvino" (a bfloat16 sentence-embedding body),
    "onnxruntime" (a float32 or int8 one), "torch" (the fine-tuned encoder, which needs the `embeddings`
    extra), or None (no MiniLM)."""
    features = model.named_steps["features"]
    if features == RAW_TEXT:
        return "torch"
    if features.embedder is None:
        return None
    return "openvino" if features.embedder.precision == "bfloat16" else "onnxruntime"


def reads_targets(model: Pipeline) -> bool:
    """Whether the target of a row changes the model's answer (target-aware models only)."""
    features, classifier = model.named_steps["features"], model.named_steps["classifier"]
    return bool(classifier.target_aware if features == RAW_TEXT else features.target_aware)


def known_targets(model: Pipeline) -> list[str] | None:
    """The targets a target-aware model has feature blocks for; None for one that reads any target's name
    as text (the fine-tuned encoder) or reads no target at all."""
    features = model.named_steps["features"]
    return None if features == RAW_TEXT or not features.target_aware else list(features.targets_)


def linear_weights(classifier) -> np.ndarray | None:
    """(labels x features) weights of a fitted linear classifier, or None when it has none."""
    if isinstance(classifier, CalibratedClassifierCV):
        return np.mean([c.estimator.coef_ for c in classifier.calibrated_classifiers_], axis=0)
    return getattr(classifier, "coef_", None)


def top_features(model: Pipeline, k: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The k readable features that push hardest toward each label (shared block, no embeddings)."""
    features, classifier = model.named_steps["features"], model.named_steps["classifier"]
    weights = linear_weights(classifier)
    if weights is None or features == RAW_TEXT or features.tfidf is None:
        return {}
    names = features.get_feature_names_out()
    readable = [i for i, name in enumerate(names) if "|" not in name and not name.startswith("embedding_")]
    if weights.shape[0] == 1:  # binary problems keep one row of weights
        weights = np.vstack([-weights[0], weights[0]])
    top = {}
    for row, label in enumerate(classifier.classes_):
        order = sorted(readable, key=lambda i: -weights[row, i])[:k]
        top[str(label)] = [(str(names[i]), round(float(weights[row, i]), 4)) for i in order]
    return top
