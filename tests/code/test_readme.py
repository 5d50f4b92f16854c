"""The README's commands run as written. The cheap ones (`stance`) run here, in a copy of the examples with
a trained model where `make repro` puts it; every other command must be named below with the test or the
job that runs it, so a new command in the README cannot go unchecked."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

RUN_ELSEWHERE = {  # command prefix: where it runs
    "make repro": "CI and the README's quick start",
    "make test": "CI (.ci/run)",
    "make lint": "make test",
    "make analyze-example": "the README's `stance analyze` of the same collection runs here; "
                            "tests/model/test_example_collection.py checks its positions",
    "make ui": "starts a server for a person to browse",
    "make bench": "the benchmarks (minutes to hours; figures committed under bench/)",
    "python bench/": "the benchmarks (figures committed under bench/)",
    "pytest": "CI (make test)",
    "dvc exp run": "tests/e2e/test_pipeline.py (dvc exp run, --temp) on a project copy",
    "dvc queue start": "tests/e2e/test_pipeline.py runs experiments; the queue runs them the same way",
    "dvc exp show": "needs experiments; tests/e2e/test_pipeline.py runs them",
    "dvc metrics diff": "needs a trained pipeline; tests/e2e/test_pipeline.py",
    "dvc remote add": "tests/e2e/test_pipeline.py (a teammate pulls from a folder remote)",
    "dvc push": "tests/e2e/test_pipeline.py (a teammate pulls from a folder remote)",
    "dvc pull": "tests/e2e/test_pipeline.py (a teammate pulls from a folder remote)",
    "make serve": "starts a server; tests/e2e/test_pipeline.py serves the model the same way",
    "make tracking-server": "starts a server; tests/e2e/test_tracking_server.py starts the same one",
    "MLFLOW_TRACKING_URI=http": "tests/e2e/test_tracking_server.py runs dvc repro against a real server",
    "curl": "tests/e2e/test_pipeline.py posts both request forms to the real model server",
    "dvc repro": "tests/e2e/test_labelling_loop.py (sample, label, import, retrain) and test_pipeline.py",
    "make test-labelstudio": "opt-in: installs and starts the real Label Studio (tests/labelstudio/)",
    "pip install -c constraints.txt .": "tests/e2e/test_light_install.py installs it in a new environment",
    "pip install -c constraints.txt '.[embeddings]'": "make setup installs it (with the other extras)",
}
NEEDS_THE_REGISTRY = "models:/"  # after make repro + stance promote: tests/e2e/test_pipeline.py, test_spark


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():  # a continued line is one command
            command = re.sub(r"(^|\s+)#.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def cheap(command: str) -> bool:
    return command.startswith(("stance ", "cat examples/")) and NEEDS_THE_REGISTRY not in command


def test_every_command_runs_here_or_is_named_with_where_it_runs():
    unplaced = [c for c in readme_commands() if not cheap(c) and NEEDS_THE_REGISTRY not in c
                and not c.startswith(tuple(RUN_ELSEWHERE))]
    assert not unplaced, f"README commands that no test runs: {unplaced}"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, model_file) -> Path:
    """What a fresh clone has after `make repro`: the examples, the corpus, and the model in models/."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", folder / "examples")
    (folder / "data" / "raw").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "raw" / "sentences.csv", folder / "data" / "raw")
    (folder / "models").mkdir()
    shutil.copy(model_file, folder / "models" / "stance_model.skops")
    return folder


@pytest.mark.parametrize("command", [c for c in readme_commands() if cheap(c)])
def test_a_readme_command_runs_as_written(workspace, command):
    stance = Path(sys.executable).parent / "stance"
    result = subprocess.run(command.replace("stance ", f"{stance} "), shell=True, cwd=workspace,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"{command}\n{result.stderr}"
    assert "Traceback" not in result.stderr
