"""The light install (`pip install -c constraints.txt .`, no extras), for real in a new virtual environment:
it scores an article with the trained default model, whose file holds its MiniLM encoder, and has no
torch."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import package_source

pytestmark = pytest.mark.e2e

ARTICLE = ROOT / "examples" / "ankara_damascus_talks.txt"


def scored(stance: Path, model_file: Path) -> pd.DataFrame:
    done = subprocess.run([str(stance), "score", str(ARTICLE), "--model", str(model_file), "--format", "csv",
                           "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return pd.read_csv(StringIO(done.stdout))


def test_the_light_install_scores_the_default_model_without_torch(tmp_path, model_file):
    source = package_source(tmp_path / "source")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = subprocess.run([*pip, "-c", str(source / "constraints.txt"), str(source)],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0

    light = scored(venv / "bin" / "stance", model_file)
    full = scored(Path(sys.executable).parent / "stance", model_file)
    assert len(light) > 5 and list(light["label"]) == list(full["label"])
    for column in ("p_support", "p_reject", "p_neutral"):
        assert (light[column] - full[column]).abs().max() < 1e-6, column
