"""End to end, as the README's labelling loop says: `stance sample` on unlabelled articles -> the `label`
column filled (our gold labels for the example articles play the labeller) -> `stance import` -> the real
`dvc repro`, which retrains on the user's labels and records how many in the real MLflow store."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.data import user_rows
from tests.code.test_readme import readme_commands
from tests.conftest import ROOT
from tests.e2e.conftest import copy_project, sh
from tests.e2e.test_pipeline import runs, stages_run

pytestmark = pytest.mark.e2e

GOLD = ROOT / "tests" / "fixtures" / "labelling_gold.csv"  # every sentence of examples/ankara_*.txt


def readme_line(prefix: str) -> list[str]:
    """The README's command starting with `prefix`, as arguments (`stance` from this environment)."""
    line = next(c for c in readme_commands() if c.startswith(prefix))
    words = shlex.split(line)
    return [str(Path(sys.executable).parent / "stance"), *words[1:]]


def expand(project: Path, words: list[str]) -> list[str]:
    """The shell's glob expansion of the README's line (examples/ankara_*.txt), in the project."""
    out = []
    for word in words:
        out.extend(sorted(str(p.relative_to(project)) for p in project.glob(word)) if "*" in word else [word])
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("labelling"), {"train.search.cv_folds": 2})
    shutil.copytree(ROOT / "examples", project / "examples")
    sh(project, "dvc", "repro")
    return project


def test_sample_label_import_repro_as_the_readme_says(project):
    sample = expand(project, readme_line("stance sample"))
    output = sh(project, *sample)
    batch = project / sample[sample.index("-o") + 1]
    assert "picked by diverse-uncertainty" in output
    sheet = pd.read_csv(batch / "to_label.csv", dtype=str, keep_default_na=False)
    n = int(sample[sample.index("-n") + 1])
    assert len(sheet) == n and sheet["label"].eq("").all() and sheet["text"].is_unique
    assert sheet["text"].eq("Share this article").sum() <= 1  # on two pages, a candidate once

    gold = pd.read_csv(GOLD, dtype=str).set_index("text")["label"]
    sheet["label"] = sheet["text"].map(gold)
    assert sheet["label"].notna().all()
    sheet.loc[sheet.index[-2:], "label"] = ""  # two left for later
    sheet.to_csv(batch / "to_label.csv", index=False)

    output = sh(project, *readme_line("stance import"))
    assert f"{n - 2} sentence(s)" in output
    users = pd.concat([pd.read_csv(p, dtype=str) for p in (project / "data/raw/user").glob("*.csv")])
    assert len(users) == n - 2 and users["doc_id"].str.startswith("user-").all()
    assert users["source"].eq("Example Wire").all()

    second = sh(project, *shlex.split(next(c for c in readme_commands() if c.startswith("dvc repro"))))
    assert {"prepare", "featurize", "train", "evaluate", "log"} <= stages_run(second)
    train = pd.read_csv(project / "data/prepared/train.csv", dtype=str)
    assert user_rows(train).sum() == n - 2
    before, after = (run.data.metrics for run in (runs(project)[0], runs(project)[-1]))
    assert before["data.user_labels"] == 0 and after["data.user_labels"] == n - 2
    assert after["data.train_sentences"] == before["data.train_sentences"] + n - 2
