"""MLflow plumbing (pipeline/tracking.py) against a real sqlite store in a temporary folder."""

import subprocess

import pytest
from dvc_data.hashfile.hash import file_md5

from pipeline import tracking
from pipeline.files import InputError


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    return tmp_path


def test_the_default_store_is_beside_the_repository_even_inside_a_dvc_temporary_copy(store, monkeypatch):
    assert tracking.tracking_uri() == f"sqlite:///{store / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking.tracking_uri() == "http://127.0.0.1:5000"


def test_experiments_are_created_beside_the_store_and_restored_when_deleted(store):
    client = tracking.connect(create=True)
    experiment_id = tracking.ensure_experiment(client, "stance-test")
    assert client.get_experiment(experiment_id).artifact_location == (store / "mlruns").as_uri()
    client.delete_experiment(experiment_id)
    assert tracking.ensure_experiment(client, "stance-test") == experiment_id
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_promoting_a_version_that_does_not_exist_is_a_clear_error(store):
    tracking.ensure_experiment(tracking.connect(create=True), "stance-test")
    with pytest.raises(InputError, match="cannot promote stance-classifier version 7"):
        tracking.promote("7")


def test_git_state_ignores_dvc_lock_but_not_other_tracked_changes(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for name in ("dvc.lock", "params.yaml"):
        (tmp_path / name).write_text("a\n")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "init")
    monkeypatch.chdir(tmp_path)
    commit, dirty = tracking.git_state()
    assert len(commit) == 40 and not dirty
    (tmp_path / "dvc.lock").write_text("rewritten by dvc\n")
    assert tracking.git_state()[1] is False
    (tmp_path / "params.yaml").write_text("changed\n")
    assert tracking.git_state()[1] is True


def test_the_data_hash_tag_is_the_one_dvc_lock_records(tmp_path):
    (tmp_path / "sentences.csv").write_text("doc_id,text\r\na,b\r\n")
    assert tracking.file_md5(str(tmp_path / "sentences.csv")) == file_md5(str(tmp_path / "sentences.csv"))


def test_only_numbers_become_mlflow_metrics_with_dotted_names():
    metrics = {"macro_f1": 0.8, "n_test": 12, "behaviour": {"negation": 0.3}, "note": "text"}
    assert tracking.numeric_metrics(metrics) == {"macro_f1": 0.8, "n_test": 12.0, "behaviour.negation": 0.3}
