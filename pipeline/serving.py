"""The python_function face of a logged model, what `mlflow models serve` and `mlflow.pyfunc.load_model`
use: each row gets its label and the probability of each label, as `stance score` writes them. The
scikit-learn flavour beside it stays for Python users (`mlflow.sklearn.load_model`, `stance score
--model models:/...`). `tracking.log_model` names this module as the model's pyfunc loader; the model
ships the `pipeline` package, so it loads where the project is not installed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from pipeline.models.families import load_model
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.models.outputs import label_columns

SHOWN_ROWS = 10


def request_problems(frame: pd.DataFrame) -> list[str]:
    """What makes a request unscorable, by row (numbered from 0, as in the request)."""
    if TEXT_COLUMN not in frame.columns:
        return [f"no column '{TEXT_COLUMN}' (columns: {', '.join(map(str, frame.columns))})"]
    bad = [i for i, text in enumerate(frame[TEXT_COLUMN]) if not isinstance(text, str) or not text.strip()]
    if not bad:
        return []
    shown = ", ".join(map(str, bad[:SHOWN_ROWS])) + (" ..." if len(bad) > SHOWN_ROWS else "")
    return [f"column '{TEXT_COLUMN}': empty or not a string in row(s) {shown}"]


class StanceScorer:
    """predict(frame with `text` [and `target`]) -> frame with `label`, `p_support`, `p_reject`,
    `p_neutral`; a bad request is an MlflowException the scoring server answers with 400 and the reason."""

    def __init__(self, model):
        self.model = model

    def predict(self, frame: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(frame)
        if problems := request_problems(frame):
            raise MlflowException("; ".join(problems), error_code=INVALID_PARAMETER_VALUE)
        columns = [TEXT_COLUMN] + ([TARGET_COLUMN] if TARGET_COLUMN in frame.columns else [])
        return label_columns(self.model.classes_, self.model.predict_proba(frame[columns]))


def _load_pyfunc(path: str) -> StanceScorer:
    """MLflow's loader-module protocol: `path` is the model folder; the file is read with our allowlist."""
    flavor = Model.load(path).flavors["sklearn"]
    return StanceScorer(load_model(Path(path) / flavor["pickled_model"]))
