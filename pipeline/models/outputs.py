"""What every scorer gives for a sentence: its label and the probability of each label, in LABELS order
(`stance score`, the Python API's frames and the REST endpoint write the same columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import LABELS

PROBABILITY_COLUMNS = [f"p_{label}" for label in LABELS]


def label_columns(classes, proba: np.ndarray) -> pd.DataFrame:
    """`label` and p_<label> (four decimals) for each row of `predict_proba`'s output."""
    classes = list(classes)
    frame = pd.DataFrame({"label": np.asarray(classes, dtype=object)[proba.argmax(axis=1)]})
    for label, column in zip(LABELS, PROBABILITY_COLUMNS, strict=True):
        frame[column] = proba[:, classes.index(label)].round(4)
    return frame
