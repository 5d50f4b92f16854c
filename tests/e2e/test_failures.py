"""The failure paths of `make repro` (pipeline/repro.py around the real `dvc repro`) and of the data stages:
each probe fails with a clear message and a non-zero status, or succeeds as documented, and leaves every
output of the last good run byte for byte where it was. (And what a run that goes well leaves for `stance`.)

The project copy runs the light family (no MiniLM) so that each probe takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.e2e.conftest import command_env, copy_project

pytestmark = pytest.mark.e2e

LIGHT = {"train.family": "tfidf-logreg", "featurize.embeddings.enabled": False, "train.search.cv_folds": 3,
         "evaluate.bootstrap_resamples": 200}
OUTPUTS = ("dvc.lock", "reports", "models", "data/prepared", "data/features")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("failures"), LIGHT)
    result = repro(project)
    assert result.returncode == 0, result.stderr
    return project


def repro(project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """What `make repro` runs."""
    return subprocess.run([sys.executable, "-m", "pipeline.repro"], cwd=project,
                          env={**command_env(project), **(env or {})}, capture_output=True, text=True)


def validate(project: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pipeline.cli", "validate", "data/raw/sentences.csv"]
    return subprocess.run(command, cwd=project, env=command_env(project), capture_output=True, text=True)


def snapshot(project: Path) -> dict[str, str]:
    """md5 of every output of the last good run (and dvc.lock), to prove that nothing was lost."""
    files = []
    for name in OUTPUTS:
        path = project / name
        files += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return {str(p.relative_to(project)): hashlib.md5(p.read_bytes()).hexdigest() for p in files}


class Edited:
    """A file changed for one probe and put back afterwards."""

    def __init__(self, path: Path):
        self.path, self.original = path, path.read_bytes()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.path.write_bytes(self.original)


def set_param(project: Path, dotted: str, value) -> None:
    values = yaml.safe_load((project / "params.yaml").read_text())
    *parents, leaf = dotted.split(".")
    node = values
    for key in parents:
        node = node[key]
    node[leaf] = value
    (project / "params.yaml").write_text(yaml.safe_dump(values, sort_keys=False))


def test_a_good_run_leaves_the_model_checked_so_the_next_stance_starts_fast(project, tmp_path):
    cache = tmp_path / "cache"
    result = repro(project, {"STANCE_CACHE_DIR": str(cache)})  # nothing to re-run: only the warm-up
    assert result.returncode == 0, result.stderr
    assert any(path.suffix == ".pkl" for path in cache.rglob("*"))  # joblib.Memory's entry for the file


def test_a_bad_parameter_fails_before_any_work_and_the_last_evaluation_stays(project):
    before = snapshot(project)
    with Edited(project / "params.yaml"):
        set_param(project, "evaluate.bootstrap_resamples", 0)
        result = repro(project)
    assert result.returncode != 0
    expected = "evaluate.bootstrap_resamples: Input should be greater than or equal to 100 (got 0)"
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project) == before


def test_ctrl_c_during_training_leaves_the_last_good_model(project):
    before = snapshot(project)
    with Edited(project / "params.yaml"):
        set_param(project, "train.search.grids.tfidf-logreg.C", [0.3, 1.0, 3.0, 10.0, 30.0])
        process = subprocess.Popen([sys.executable, "-m", "pipeline.repro"], cwd=project,
                                   env=command_env(project), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True,
                                   start_new_session=True,  # a terminal's Ctrl-C reaches the whole group
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        output = []
        for line in process.stdout:
            output.append(line)
            if "Running stage 'train'" in line:
                time.sleep(1.5)  # inside the stage: DVC has already removed models/
                os.killpg(process.pid, signal.SIGINT)
                break
        output.append(process.stdout.read())
        status = process.wait(timeout=120)
    assert status == 130, "".join(output)
    assert "interrupted; restoring the last good outputs" in "".join(output)
    assert snapshot(project) == before


@pytest.mark.parametrize("case, message", [
    ("one label", "no sentence labelled support, reject"),
    ("four articles", "4 article(s) (doc_id); holding out 20% of the articles whole needs at least 5"),
    ("unknown label", "column 'label': unknown label 'Support'"),
    ("line break in a sentence", "the sentence runs over several lines"),
    ("NUL byte", "NUL byte"),
])
def test_rejected_data_gets_one_verdict_from_validate_and_repro_and_leaves_no_trace(project, case, message):
    raw = project / "data/raw/sentences.csv"
    before = snapshot(project)
    with Edited(raw):
        frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
        if case == "one label":
            frame["label"] = "neutral"
        elif case == "four articles":
            frame = frame[frame["doc_id"].isin(frame["doc_id"].unique()[:4])]
        elif case == "unknown label":
            frame.loc[3, "label"] = "Support"
        elif case == "line break in a sentence":
            frame.loc[5, "text"] = "Talks resumed\nin Moscow."
        else:
            frame.loc[7, "text"] = "Talks\x00 resumed."
        frame.to_csv(raw, index=False)
        checked, ran = validate(project), repro(project)
    for result in (checked, ran):
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
    assert snapshot(project) == before  # corpus statistics and dvc.lock still describe the accepted data


@pytest.mark.parametrize("case", ["only the contract's six columns", "a new row without label sets"])
def test_data_validate_accepts_is_data_repro_accepts(project, case):
    raw = project / "data/raw/sentences.csv"
    with Edited(raw), Edited(project / "dvc.lock"):
        frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
        if case == "only the contract's six columns":
            frame = frame[["doc_id", "sentence_id", "text", "label", "target", "source"]]
        else:
            extra = frame.iloc[[1]].assign(sentence_id="new-1", text="Ankara's envoy welcomed the new talks.")
            frame = pd.concat([frame, extra])
        frame.to_csv(raw, index=False)
        checked, ran = validate(project), repro(project)
        stats = yaml.safe_load((project / "reports/corpus_stats.json").read_text())
    assert checked.returncode == 0, checked.stderr
    assert ran.returncode == 0, ran.stderr
    assert stats["skipped"]  # the statistics say what they could not cover
    repro(project)  # back to the fixture's data


def test_a_bad_mlflow_uri_in_the_log_stage_keeps_the_last_record(project):
    before = snapshot(project)
    with Edited(project / "params.yaml"):
        set_param(project, "mlflow.experiment_name", "another-experiment")  # only `log` re-runs
        result = repro(project, env={"MLFLOW_TRACKING_URI": "bogus://store"})
    assert result.returncode != 0
    assert "cannot record the run: bogus://store" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project) == before
