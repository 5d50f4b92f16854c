"""`stance score-spark` for real on local[2]: a registered model through MLflow's spark_udf gives every row
the label and probabilities `stance score` gives it."""

from __future__ import annotations

import shutil
import subprocess
from io import StringIO

import pandas as pd
import pytest

from tests.conftest import CORPUS
from tests.e2e.conftest import command_env, register_model

pytest.importorskip("pyspark", reason="PySpark is not installed (the `spark` extra; make setup installs it)")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime (Spark needs 17+)")]


def test_spark_scores_a_dataset_as_stance_score_does(tmp_path, model_file):
    store = tmp_path / "store"
    store.mkdir()
    uri = register_model(model_file, store)
    rows = pd.read_csv(CORPUS, dtype=str, keep_default_na=False).sample(40, random_state=0)
    rows = rows[["sentence_id", "text"]].reset_index(drop=True)
    source = tmp_path / "rows.csv"
    rows.to_csv(source, index=False)
    env = {**command_env(tmp_path), "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}"}

    def stance(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(["stance", *arguments], cwd=tmp_path, env=env, capture_output=True, text=True)

    expected = pd.read_csv(StringIO(stance("score", str(source), "--format", "csv", "-q",
                                           "--model", str(model_file)).stdout))
    output = str(tmp_path / "scored")
    result = stance("score-spark", str(source), output, "--model", uri, "--master", "local[2]")
    assert result.returncode == 0, result.stderr[-3000:]
    scored = pd.read_parquet(tmp_path / "scored").sort_values("sentence_id").reset_index(drop=True)
    expected = expected.sort_values("sentence_id").reset_index(drop=True)
    assert list(scored.columns) == ["sentence_id", "text", "label", "p_support", "p_reject", "p_neutral"]
    assert list(scored["sentence_id"]) == list(expected["sentence_id"])
    assert list(scored["label"]) == list(expected["label"])
    for column in ("p_support", "p_reject", "p_neutral"):  # float32 encoder sums move with the batch (1e-8)
        assert (scored[column] - expected[column]).abs().max() < 1e-6, column

    again = stance("score-spark", str(source), output, "--model", uri)
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
