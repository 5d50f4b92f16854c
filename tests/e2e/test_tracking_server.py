"""A team's shared MLflow tracking server: `dvc repro` logs to it when MLFLOW_TRACKING_URI names it."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipeline.params import load_params
from tests.e2e.conftest import command_env, copy_project, tracking_server

pytestmark = pytest.mark.e2e


def test_repro_logs_the_run_its_artifacts_and_the_version_to_a_tracking_server(tmp_path):
    project = copy_project(tmp_path / "project")
    with tracking_server(tmp_path / "server") as url:
        env = {**command_env(project), "MLFLOW_TRACKING_URI": url}
        result = subprocess.run(["dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]

        client = MlflowClient(url)
        experiment = client.get_experiment_by_name("stance-classification")
        runs = client.search_runs([experiment.experiment_id])
        parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
        assert len(parents) == 1 and len(runs) > 1  # the run and its search candidates
        run = parents[0]
        assert 0 < run.data.metrics["macro_f1"] <= 1
        artifacts = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
        assert {"report.md", "search.json", "figures"} <= artifacts
        version = client.get_model_version("stance-classifier", "1")
        assert version.run_id == run.info.run_id
        # the artifacts went through the server, into its folder: the model file is the DVC one
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(url)  # models:/ URIs resolve in the default registry, whatever is passed
        try:
            model = Path(mlflow.artifacts.download_artifacts("models:/stance-classifier/1",
                                                             dst_path=str(tmp_path / "downloaded")))
        finally:
            mlflow.set_tracking_uri(previous)
        assert (model / "model.skops").read_bytes() == (project / "models/stance_model.skops").read_bytes()

        # Three queued experiments, two at a time: each lands with its own run and its own model version.
        family = load_params(project / "params.yaml").train.family
        for c in ("0.5", "1.5", "30.0"):
            queued = subprocess.run(["dvc", "exp", "run", "--queue", "-S",
                                     f"train.search.grids.{family}.C=[{c}]"],
                                    cwd=project, env=env, capture_output=True, text=True)
            assert queued.returncode == 0, queued.stderr[-3000:]
        subprocess.run(["dvc", "queue", "start", "-j", "2"], cwd=project, env=env, check=True,
                       capture_output=True)
        try:
            versions = wait_for_versions(client, 4, within=1200)
        finally:  # cleanup only: a worker stuck in its shutdown (see below) must not hold the test
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(["dvc", "queue", "stop"], cwd=project, env=env, capture_output=True,
                               timeout=120)
        runs = client.search_runs([experiment.experiment_id])
        assert len([run for run in runs if "mlflow.parentRunId" not in run.data.tags]) == 4
        assert sorted(int(v.version) for v in versions) == [1, 2, 3, 4]
        assert len({v.run_id for v in versions}) == 4
    assert (tmp_path / "server/artifacts").is_dir()
    assert not (project / "mlflow.db").exists() and not (project / "mlruns").exists()


def wait_for_versions(client: MlflowClient, count: int, within: float) -> list:
    """The registry's versions once there are `count`, each registered by a run's last stage. Not `dvc
    queue status`: a DVC worker was seen to hang in its own shutdown after its experiment had landed, and
    the status then never left "Running"."""
    deadline = time.monotonic() + within
    while True:
        versions = client.search_model_versions("name = 'stance-classifier'")
        if len(versions) >= count:
            return versions
        assert time.monotonic() < deadline, f"{len(versions)} of {count} versions within {within} s"
        time.sleep(5)
