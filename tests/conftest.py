"""Shared fixtures. Tests run from the repository root (pytest's rootdir)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline import model_io
from pipeline.data import COLUMNS, load_sentences
from pipeline.model import build_model
from pipeline.params import load_params
from pipeline.prepare import split_by_article

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "raw" / "sentences.csv"
PARAMS = ROOT / "params.yaml"


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
    params = load_params("prepare", PARAMS)
    return split_by_article(corpus, params["test_size"], params["random_state"])


@pytest.fixture(scope="session")
def trained_model(split):
    """The default model (params.yaml), trained in-process on the default training split."""
    train, _ = split
    model = build_model(load_params("featurize", PARAMS), load_params("train", PARAMS))
    return model.fit(train["text"], train["label"])


@pytest.fixture(scope="session")
def model_file(trained_model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "stance_model.skops"
    model_io.save(trained_model, path)
    return path
