"""Opt-in (`make test-labelstudio`): the batch `stance sample` writes, through the real Label Studio server
(started on 127.0.0.1 with its own data folder) and label-studio-sdk, back into `stance import`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CORPUS, ROOT
from tests.e2e.conftest import free_port, server

pytestmark = pytest.mark.labelstudio

VENV = Path(os.environ.get("LABEL_STUDIO_VENV", ROOT / ".venv-labelstudio"))
GOLD = ROOT / "tests" / "fixtures" / "labelling_gold.csv"
TOKEN = "0123456789abcdef0123456789abcdef01234567"  # a throwaway server's legacy API token
TARGET = "ankara-damascus-normalization"


def stance(cwd: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def label_studio(tmp_path):
    if not (VENV / "bin" / "label-studio").is_file():
        pytest.skip(f"no Label Studio in {VENV}: run `make test-labelstudio`")
    data = tmp_path / "label-studio"
    port = free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data)}
    command = [str(VENV / "bin" / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1",
               "-p", str(port), "--data-dir", str(data), "--username", "labeller@example.org",
               "--password", "a-test-password-1", "--user-token", TOKEN, "--enable-legacy-api-token"]
    with server(command, tmp_path, env, f"http://127.0.0.1:{port}", tmp_path / "label-studio.log",
                started_within=300) as url:
        yield url


def test_tasks_go_into_label_studio_and_its_export_comes_back_through_stance_import(tmp_path, label_studio,
                                                                                    model_file):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    shutil.copy(CORPUS, tmp_path / "data" / "raw")
    articles = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "examples").glob("ankara_*.txt"))
    stance(tmp_path, "sample", *articles, "-n", "8", "-o", "batch", "--model", str(model_file))
    tasks = json.loads((tmp_path / "batch" / "tasks.json").read_text())

    gold = pd.read_csv(GOLD, dtype=str).set_index("text")["label"]
    texts = [task["data"]["text"] for task in tasks]
    answers = {text: gold[text] for text in texts[:5]} | {texts[5]: None}  # 5 labelled, 1 skipped, 2 left
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    driven = subprocess.run([str(VENV / "bin" / "python"), str(Path(__file__).with_name("drive.py")),
                             label_studio, TOKEN, str(tmp_path / "batch"), str(tmp_path / "answers.json"),
                             str(tmp_path / "export.json")], capture_output=True, text=True)
    assert driven.returncode == 0, driven.stderr
    held = json.loads(driven.stdout.splitlines()[-1])
    assert held["tasks"] == 8 and len(held["predictions"]) == 8  # every suggestion accepted as a prediction
    assert {p["model_version"] for p in held["predictions"]} == {str(model_file)}
    scores = sorted(task["predictions"][0]["score"] for task in tasks)
    assert sorted(p["score"] for p in held["predictions"]) == scores

    note = stance(tmp_path, "import", "export.json", "--target", TARGET, "--source", "Example Wire")
    assert "5 sentence(s)" in note and "3 not labelled yet" in note
    imported = pd.read_csv(tmp_path / "data" / "raw" / "user" / "export.csv", dtype=str)
    assert dict(zip(imported["text"], imported["label"], strict=True)) == {t: gold[t] for t in texts[:5]}
    assert imported["annotator"].str.startswith("label-studio-user-").all()
    assert imported["doc_id"].str.startswith("user-export-").all()
