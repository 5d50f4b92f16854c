"""A copy of the project to run the real `dvc repro` in, and the shell around it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import chdir, contextmanager
from pathlib import Path

import pandas as pd
import requests
import yaml

from tests.conftest import CORPUS, PARAMS, ROOT

PROJECT_FILES = ["pipeline", "dvc.yaml", ".dvc/config", ".dvc/.gitignore", ".dvcignore", ".gitignore",
                 "data/annotation", "data/raw/user"]
FIXTURE_ARTICLES = 16


def command_env(project: Path) -> dict[str, str]:
    inherited = ("MLFLOW_TRACKING_URI", "DVC_ROOT", "DVC_EXP_NAME")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # stages run `python`
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DVC_NO_ANALYTICS="true", GIT_AUTHOR_NAME="e2e",
               GIT_AUTHOR_EMAIL="e2e@example.org", GIT_COMMITTER_NAME="e2e",
               GIT_COMMITTER_EMAIL="e2e@example.org")
    return env


def sh(project: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=project, env=command_env(project), capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def package_source(folder: Path) -> Path:
    """What pip needs to build the package, copied into `folder`, so a build writes nothing into the
    checkout."""
    folder.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, folder)
    shutil.copytree(ROOT / "pipeline", folder / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def copy_project(project: Path, params: dict | None = None) -> Path:
    """The project's pipeline on the first articles of our corpus, committed to a new git repository.
    `params` (dotted names) changes params.yaml first."""
    for name in PROJECT_FILES:
        source, target = ROOT / name, project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    shutil.copy2(PARAMS, project / "params.yaml")  # the committed defaults, not the last applied experiment
    if params:
        values = yaml.safe_load((project / "params.yaml").read_text())
        for dotted, value in params.items():
            *parents, leaf = dotted.split(".")
            node = values
            for key in parents:
                node = node[key]
            node[leaf] = value
        (project / "params.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    corpus = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)
    articles = corpus["doc_id"].drop_duplicates().head(FIXTURE_ARTICLES)
    corpus[corpus["doc_id"].isin(articles)].to_csv(project / "data/raw/sentences.csv", index=False)
    sh(project, "git", "init", "-q")
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-qm", "fixture")
    return project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(command: list[str], cwd: Path, env: dict[str, str], url: str, log: Path,
           started_within: float = 180):
    """Runs a real server (`command`) until it answers `url`/ping or /health; yields `url` and stops it,
    workers included, on the way out."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + started_within
        while not (_answers(f"{url}/ping") or _answers(f"{url}/health")):
            assert process.poll() is None and time.monotonic() < deadline, \
                f"{command[0]} did not start:\n{log.read_text()[-3000:]}"
            time.sleep(1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def model_server(project: Path, model_uri: str):
    """The real `mlflow models serve` of `model_uri` (from the project's store) on a free loopback port."""
    port = free_port()
    env = {**command_env(project), "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    return server(["mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
                   "-h", "127.0.0.1", "-p", str(port)], project, env, f"http://127.0.0.1:{port}",
                  project / f"serve-{port}.log")


def tracking_server(folder: Path):
    """A real MLflow tracking server (SQLite store, artifacts proxied into `folder`) on a free port."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    return server(["mlflow", "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
                   "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1"], folder, command_env(folder),
                  f"http://127.0.0.1:{port}", folder / "server.log")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False


def register_model(model_file: Path, store: Path) -> str:
    """`model_file` logged and registered in a new MLflow store in `store`, as the log stage does it;
    returns its models:/ URI. The tracking URI of this process is left as it was."""
    import mlflow

    from pipeline import tracking
    from pipeline.models.families import load_model

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    examples = pd.DataFrame({"text": ["Ankara welcomed the talks."], "target": [""]})
    try:
        with chdir(ROOT), mlflow.start_run():  # the logged model ships the `pipeline` package, found here
            version = tracking.log_model(load_model(model_file), model_file, examples, "registered by a test",
                                         {"model_md5": "test", "family": "test"})
    finally:
        mlflow.set_tracking_uri(previous)
    return f"models:/{tracking.REGISTERED_MODEL}/{version}"
