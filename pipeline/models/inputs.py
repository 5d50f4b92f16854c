"""What every model accepts: a list / array / Series of texts, or a DataFrame with `text` and optionally
`target` (MLflow's pyfunc passes a DataFrame)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TEXT_COLUMN = "text"
TARGET_COLUMN = "target"


def model_input(X) -> tuple[np.ndarray, np.ndarray | None]:
    """(texts, targets or None). A single string is refused: a vectorizer would read its characters."""
    if isinstance(X, str):
        raise TypeError("expected a list of texts, got a single string: wrap it in a list")
    targets = None
    if isinstance(X, pd.DataFrame):
        if TEXT_COLUMN not in X.columns:
            raise ValueError(f"input DataFrame has no {TEXT_COLUMN!r} column (columns: {list(X.columns)})")
        if TARGET_COLUMN in X.columns:
            targets = X[TARGET_COLUMN].fillna("").astype(str).to_numpy()
        X = X[TEXT_COLUMN]
    texts = pd.Series(np.asarray(X, dtype=object).ravel()).fillna("").astype(str).to_numpy()
    return texts, targets
