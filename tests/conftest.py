"""Shared fixtures. Tests run from the repository root (pytest's rootdir)."""

from __future__ import annotations

import atexit
import csv
import gc
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline import model_io
from pipeline.data import COLUMNS, load_sentences
from pipeline.featurize import featurize
from pipeline.params import load_params
from pipeline.splits import split_by_article
from pipeline.train import TrainingData, train

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "raw" / "sentences.csv"


def committed_params() -> Path:
    """params.yaml as committed. `dvc exp run` applies an experiment's params to the workspace; the tests
    check the shipped defaults whatever experiment was applied last (outside a git checkout: the file)."""
    shown = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        return ROOT / "params.yaml"
    folder = Path(tempfile.mkdtemp(prefix="stance-tests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / "params.yaml").write_text(shown.stdout, encoding="utf-8")
    return folder / "params.yaml"


PARAMS = committed_params()

# The tests load many model files: they, and the commands they start, cache them in a folder of their own.
os.environ[model_io.CACHE_ENV] = tempfile.mkdtemp(prefix="stance-tests-cache-")
atexit.register(shutil.rmtree, os.environ[model_io.CACHE_ENV], ignore_errors=True)


@pytest.fixture(autouse=True)
def collector_sees_everything():
    """`stance` freezes what it loads (pipeline/stage.py, long_lived), as a process that ends with the
    command may; the tests run it many times in one process, so each test hands all back to the collector."""
    yield
    gc.unfreeze()


def write_rows(path: Path, rows: list[dict], columns=COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def sentence(n: int, label: str = "neutral", doc: str = "art-1", text: str | None = None) -> dict:
    return {
        "doc_id": doc, "sentence_id": f"s{n}", "text": text or f"Ministers met in Moscow on day {n}.",
        "label": label, "target": "ankara-damascus-normalization", "source": "Test Wire",
    }


@pytest.fixture(scope="session")
def corpus():
    return load_sentences(CORPUS)


@pytest.fixture(scope="session")
def split(corpus):
    params = load_params(PARAMS).prepare
    return split_by_article(corpus, params.test_size, params.random_state)


def fit_default(frame):
    """The default model (params.yaml) through the pipeline's own featurize -> search -> refit code."""
    frame = frame.reset_index(drop=True)
    params = load_params(PARAMS)
    return train(TrainingData(frame, *featurize(frame["text"].tolist(), params.featurize)), params.train)


@pytest.fixture(scope="session")
def trained_model(split):
    """The default model trained in-process on the default training split."""
    return fit_default(split[0])[0]


@pytest.fixture(scope="session")
def model_file(trained_model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "stance_model.skops"
    model_io.save(trained_model, path)
    return path
