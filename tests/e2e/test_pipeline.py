"""End to end: the real `dvc repro` in a copy of the project, read back from the real MLflow store."""

from __future__ import annotations

import json
import subprocess
from io import StringIO
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import requests
import yaml
from dvc_data.hashfile.hash import file_md5
from mlflow.tracking import MlflowClient

from pipeline.checklist import CHECKS
from pipeline.scoring import load_model
from tests.conftest import ROOT
from tests.e2e.conftest import command_env, copy_project, model_server, sh

pytestmark = pytest.mark.e2e

STAGES = ("corpus", "prepare", "featurize", "train", "evaluate", "log")


def stages_run(output: str) -> set[str]:
    return {stage for stage in STAGES if f"Running stage '{stage}'" in output}


def client_for(project: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def all_runs(project: Path):
    client = client_for(project)
    experiment = client.get_experiment_by_name("stance-classification")
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def runs(project: Path):
    """Pipeline runs, without the search's child runs."""
    return [run for run in all_runs(project) if "mlflow.parentRunId" not in run.data.tags]


def children(project: Path, run_id: str):
    return [run for run in all_runs(project) if run.data.tags.get("mlflow.parentRunId") == run_id]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A fresh copy of the project on a small corpus (the first articles of ours), after `dvc repro`."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    project.joinpath("first_repro.log").write_text(sh(project, "dvc", "repro"))
    return project


def declared_outputs() -> list[str]:
    """Every output dvc.yaml declares: stage outs, top-level metrics and the plots' data files."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    outs = [next(iter(out)) if isinstance(out, dict) else out for stage in spec["stages"].values()
            for out in stage.get("outs", [])]
    plots = [path for plot in spec["plots"] for definition in plot.values() for path in definition["y"]]
    return outs + spec["metrics"] + plots


def test_first_repro_runs_every_stage_and_writes_every_declared_output(project):
    assert stages_run((project / "first_repro.log").read_text()) == set(STAGES)
    for path in declared_outputs():
        target = project / path
        assert target.is_file() or (target.is_dir() and any(target.iterdir())), path
    for path in ("models/stance_model.skops", "models/search.json", "reports/eval/report.md",
                 "reports/eval/figures/reliability.png", "dvc.lock"):
        assert (project / path).is_file(), path
    metrics = yaml.safe_load((project / "reports/eval/metrics.json").read_text())
    assert metrics["macro_f1_ci_low"] <= metrics["macro_f1"] <= metrics["macro_f1_ci_high"]
    assert metrics["f_avg_ci_low"] <= metrics["f_avg"] <= metrics["f_avg_ci_high"]
    assert 0 <= metrics["ece"] <= 1
    assert set(metrics["behaviour"]) == {check.name for check in CHECKS}
    report = (project / "reports/eval/report.md").read_text()
    for section in ("Headline numbers", "Per target", "Behaviour checks", "most confident errors",
                    "Features that drive each label", "Model search"):
        assert section in report
    assert "](figures/reliability.png)" in report


def test_search_never_reads_the_test_split_and_folds_keep_articles_whole(project):
    search = yaml.safe_load((project / "models/search.json").read_text())
    train = pd.read_csv(project / "data/prepared/train.csv")
    assert search["cv_folds"] == min(5, train["doc_id"].nunique())
    assert all(len(c["fold_scores"]) == search["cv_folds"] for c in search["candidates"])


def test_mlflow_run_has_params_metrics_tags_artifacts_and_a_registered_model(project):
    (run,) = runs(project)
    metrics = yaml.safe_load((project / "reports/eval/metrics.json").read_text())
    assert run.data.metrics["f_avg"] == pytest.approx(metrics["f_avg"])
    assert run.data.metrics["macro_f1"] == pytest.approx(metrics["macro_f1"])
    per_class = yaml.safe_load((project / "reports/eval/per_class.json").read_text())
    assert run.data.metrics["per_class.reject.f1"] == pytest.approx(per_class["reject"]["f1"])
    assert run.data.metrics["macro_f1_ci_low"] == pytest.approx(metrics["macro_f1_ci_low"])
    params = yaml.safe_load((project / "params.yaml").read_text())
    word_ngram_max = params["featurize"]["tfidf"]["word_ngram_max"]
    assert run.data.params["featurize.tfidf.word_ngram_max"] == str(word_ngram_max)
    assert run.data.params["train.family"] == params["train"]["family"]
    assert run.data.params["mlflow.experiment_name"] == "stance-classification"
    experiment = client_for(project).get_experiment_by_name("stance-classification")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # not a GenAI app
    assert "Headline metrics" in experiment.tags["mlflow.note.content"]
    view = json.loads(experiment.tags["mlflow.sharedViewState.headline"])  # ?viewStateShareKey=headline
    assert "metrics.`macro_f1`" in view["selectedColumns"]
    search = yaml.safe_load((project / "models/search.json").read_text())
    assert run.data.params["chosen.C"] == str(search["chosen"]["C"])

    candidates = children(project, run.info.run_id)
    assert len(candidates) == len(search["candidates"])
    assert sum(c.data.tags["chosen"] == "true" for c in candidates) == 1

    head = sh(project, "git", "rev-parse", "HEAD").strip()
    assert run.data.tags["git_commit"] == head
    assert run.data.tags["git_dirty"] == "false"
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    raw = next(d for d in lock["stages"]["prepare"]["deps"] if d["path"] == "data/raw/sentences.csv")
    assert run.data.tags["data_md5"] == raw["md5"]

    artifacts_root = project / "mlruns"  # beside the store, not wherever the stage ran
    assert run.info.artifact_uri.removeprefix("file://").startswith(str(artifacts_root))
    artifacts = {a.path for a in client_for(project).list_artifacts(run.info.run_id)}
    assert {"metrics.json", "per_class.json", "per_target.json", "search.json", "errors.csv", "report.md",
            "plots", "figures"} <= artifacts

    version = client_for(project).get_model_version("stance-classifier", "1")
    assert version.run_id == run.info.run_id


def test_model_loads_from_file_and_from_mlflow_with_n_predictions_for_n_rows(project, monkeypatch):
    texts = ["Ankara said it was ready to restore ties with Damascus.",
             "The faction refused any reconciliation.", "The ministers met in Moscow on Wednesday."]
    from_file = load_model(project / "models/stance_model.skops")
    assert len(from_file.predict(texts)) == 3

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    from_registry = load_model("models:/stance-classifier/1")
    assert list(from_registry.predict(texts)) == list(from_file.predict(texts))
    logged = Path(mlflow.artifacts.download_artifacts("models:/stance-classifier/1")) / "model.skops"
    assert logged.read_bytes() == (project / "models/stance_model.skops").read_bytes()  # one file, one hash

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    pyfunc = mlflow.pyfunc.load_model("models:/stance-classifier/1")
    predictions = pyfunc.predict(pd.DataFrame({"text": texts}))
    assert list(predictions.columns) == ["label", "p_support", "p_reject", "p_neutral"]
    assert list(predictions["label"]) == list(from_file.predict(texts))
    with_target = pd.DataFrame({"text": texts, "target": ["ankara-damascus-normalization"] * 3})
    assert len(pyfunc.predict(with_target)) == 3
    assert mlflow.sklearn.load_model("models:/stance-classifier/1").predict_proba(texts).shape == (3, 3)


def test_the_rest_endpoint_gives_labels_and_probabilities_as_stance_score_does(project):
    texts = ["Ankara said it was ready to restore ties with Damascus.",
             "The faction refused any reconciliation.", "The ministers met in Moscow on Wednesday."]
    rows = project / "rows.csv"
    pd.DataFrame({"text": texts}).to_csv(rows, index=False)
    scored = pd.read_csv(StringIO(sh(project, "stance", "score", str(rows), "--format", "csv", "-q",
                                     "--model", "models:/stance-classifier/1")))
    expected = scored[["label", "p_support", "p_reject", "p_neutral"]].to_dict("records")
    with model_server(project, "models:/stance-classifier/1") as url:
        for body in ({"dataframe_split": {"columns": ["text"], "data": [[text] for text in texts]}},
                     {"dataframe_records": [{"text": text, "target": ""} for text in texts]}):
            response = requests.post(f"{url}/invocations", json=body, timeout=120)
            assert response.status_code == 200, response.text
            assert response.json()["predictions"] == expected
        for records, message in (([{"headline": "no text column"}], "missing inputs ['text']"),
                                 ([{"text": "Fine."}, {"text": "  "}], "empty or not a string in row(s) 1"),
                                 ([{"text": 5}], "empty or not a string in row(s) 0")):
            response = requests.post(f"{url}/invocations", json={"dataframe_records": records}, timeout=120)
            assert response.status_code == 400, response.text
            assert message in response.json()["message"]


def test_promote_and_score_the_champion(project):
    sh(project, "stance", "promote", "1")
    article = project / "article.txt"
    article.write_text("Ministers met in Moscow.\n\nThe faction refused any reconciliation with Damascus.\n")
    out = sh(project, "stance", "score", str(article), "--model", "models:/stance-classifier@champion",
             "--format", "csv", "-q")
    assert out.splitlines()[0] == "doc,sentence_index,text,label,p_support,p_reject,p_neutral"
    assert len(out.splitlines()) == 3
    with_target = sh(project, "stance", "score", str(article), "--target", "ankara-damascus-normalization",
                     "--format", "csv", "-q")
    assert with_target.splitlines()[0] == "doc,sentence_index,target,text,label,p_support,p_reject,p_neutral"

    for command in (["promote", "99"], ["score", str(article), "--model", "models:/stance-classifier/99"]):
        result = subprocess.run(["stance", *command], cwd=project, env=command_env(project),
                                capture_output=True, text=True)
        assert result.returncode == 1
        assert result.stderr.startswith("error: ") and "99" in result.stderr
        assert "Traceback" not in result.stderr


def test_reruns_only_what_changed_and_logs_each_new_model(project):
    assert stages_run(sh(project, "dvc", "repro")) == set()

    changed = sh(project, "dvc", "exp", "run", "-S", "train.search.cv_folds=3")
    assert stages_run(changed) == {"train", "evaluate", "log"}
    second = runs(project)[-1]
    assert len(runs(project)) == 2
    assert second.data.params["train.search.cv_folds"] == "3"
    assert "train.search.cv_folds=3" in second.info.run_name  # the run says what changed

    # A temporary experiment runs in a copy of the repo; its run must still land in this store.
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-qm", "3 folds")
    sh(project, "dvc", "exp", "run", "--temp", "-S", "train.search.grids.tfidf-embeddings-logreg.C=[0.3]")
    third = runs(project)[-1]
    assert len(runs(project)) == 3
    assert third.data.params["chosen.C"] == "0.3"
    assert third.data.tags.get("dvc_exp_name")
    version = client_for(project).search_model_versions(f"run_id = '{third.info.run_id}'")[0]
    assert version.tags["family"] == "tfidf-embeddings-logreg" and version.tags["macro_f1"]
    assert "tfidf-embeddings-logreg (C=0.3" in version.description


def test_an_identical_retrain_logs_a_run_but_no_new_version(project):
    client = client_for(project)
    versions = len(client.search_model_versions("name = 'stance-classifier'"))
    sh(project, "dvc", "repro", "-f", "--downstream", "train")  # same data and params: same model file
    latest = runs(project)[-1]
    assert len(client.search_model_versions("name = 'stance-classifier'")) == versions
    reproduced = latest.data.tags["same_model_as_version"]
    assert client.get_model_version("stance-classifier", reproduced).tags["model_md5"] == file_md5(
        str(project / "models/stance_model.skops"))


def test_returning_to_earlier_params_still_logs_a_run(project):
    """The run cache restores `train` without running it; `evaluate` and `log` keep uncached outputs,
    so they run and the restored model gets its own MLflow run."""
    before = len(runs(project))
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("cv_folds: 3", "cv_folds: 5"))
    output = sh(project, "dvc", "repro")
    assert "Stage 'train' is cached" in output
    assert stages_run(output) == {"evaluate", "log"}
    assert len(runs(project)) == before + 1


def test_bad_data_fails_clearly_and_the_last_good_outputs_come_back(project):
    raw = project / "data/raw/sentences.csv"
    good = raw.read_text(encoding="utf-8")
    split_before = (project / "data/prepared/train.csv").read_bytes()
    lines = good.splitlines(keepends=True)
    for label in ("neutral", "support", "reject"):
        lines[3] = lines[3].replace(f",{label},", f",{label.title()},")
    raw.write_text("".join(lines), encoding="utf-8")
    result = subprocess.run(["dvc", "repro"], cwd=project, env=command_env(project), capture_output=True,
                            text=True)
    assert result.returncode != 0
    assert "data/raw/sentences.csv: 1 problem(s) with the data" in result.stderr
    assert "row 3 (line 4), column 'label': unknown label" in result.stderr
    # DVC cleared the stage's outputs before running it; they are in its cache (what `make repro` restores).
    sh(project, "dvc", "checkout")
    assert (project / "data/prepared/train.csv").read_bytes() == split_before
    raw.write_text(good, encoding="utf-8")
    assert "up to date" in sh(project, "dvc", "status")


def test_a_teammate_pulls_the_trained_outputs_from_a_shared_dvc_remote(project, tmp_path):
    """Last in this file: it commits the project's state. The README's team commands, with a folder as
    the shared remote (an s3:// or ssh:// URL works the same way)."""
    sh(project, "dvc", "remote", "add", "-d", "shared", str(tmp_path / "dvc-store"))
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-qm", "trained")
    sh(project, "dvc", "push")
    teammate = tmp_path / "teammate"
    sh(tmp_path, "git", "clone", "-q", str(project), str(teammate))
    assert not (teammate / "models/stance_model.skops").exists()
    sh(teammate, "dvc", "pull")
    for output in ("models/stance_model.skops", "data/features/train_tfidf.npz", "data/prepared/test.csv"):
        assert (teammate / output).read_bytes() == (project / output).read_bytes(), output
    # Only the record of the MLflow run is missing: the MLflow store is each machine's own.
    status = sh(teammate, "dvc", "status")
    assert [line for line in status.splitlines() if not line[:1].isspace()] == ["log:"], status
    assert "reports/mlflow_run.json" in status
    assert stages_run(sh(teammate, "dvc", "repro")) == {"log"}
