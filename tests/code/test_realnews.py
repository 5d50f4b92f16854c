"""Real-news figures (pipeline/realnews.py) on a stand-in file of our own sentences, and the skip when the
folder is absent (the real file lives outside the repo)."""

import numpy as np
import pandas as pd
import pytest

from pipeline import realnews
from pipeline.files import InputError
from tests.code.test_model import fit

ROWS = [  # doc, text, label, part, confident
    ("A1", "Ministers meet in Moscow", "neutral", "headline", True),
    ("A1", "Ankara wants ties with Damascus restored.", "support", "body", True),
    ("A1", "The faction refused any talks with the regime.", "reject", "body", True),
    ("A1", "Sign up for our newsletter", "neutral", "furniture", True),
    ("A2", "Ministers met in Moscow on Wednesday.", "neutral", "body", True),
    ("A2", "Officials welcomed the deal as a path to peace.", "support", "body", False),
    ("A2", "Protesters denounced the deal as a betrayal.", "reject", "body", True),
    ("A2", "Related: The meeting lasted four hours.", "neutral", "furniture", True),
]


@pytest.fixture
def folder(tmp_path):
    frame = pd.DataFrame(ROWS, columns=["doc_id", "text", "label", "part", "confident"])
    frame["sentence_id"] = [f"{doc}-{i}" for i, doc in enumerate(frame["doc_id"])]
    frame["target"] = "ankara-damascus-normalization"
    frame["confident"] = frame["confident"].map({True: "True", False: "False"})
    frame.to_csv(tmp_path / realnews.FILE, index=False)
    return tmp_path


def test_an_absent_folder_is_skipped_and_a_relative_one_is_found_from_the_repo_root(folder, monkeypatch):
    assert realnews.locate(folder / "nowhere") is None
    monkeypatch.setenv("DVC_ROOT", str(folder.parent))
    assert realnews.locate(folder.name) == folder / realnews.FILE


def test_figures_are_on_confident_rows_with_article_intervals(folder):
    frame = realnews.load(folder / realnews.FILE)
    figures = realnews.evaluate(fit("tfidf-logreg"), frame, n_resamples=200, random_state=0)
    assert figures["n_test"] == 7 and figures["n_articles"] == 2
    assert np.sum(figures["confusion"]) == 7
    assert figures["macro_f1_ci_low"] <= figures["macro_f1"] <= figures["macro_f1_ci_high"]
    for label in ("support", "reject", "neutral"):
        per_label = figures["per_class"][label]
        assert per_label["f1_ci_low"] <= per_label["f1"] <= per_label["f1_ci_high"]
    assert 0 <= figures["furniture_neutral"] <= 1


def test_furniture_share_counts_only_neutral_furniture():
    class AlwaysReject:
        classes_ = np.array(["neutral", "reject", "support"])

        def predict_proba(self, frame):
            return np.tile([0.1, 0.8, 0.1], (len(frame), 1))

    frame = pd.DataFrame(ROWS, columns=["doc_id", "text", "label", "part", "confident"])
    frame["target"] = ""
    figures = realnews.evaluate(AlwaysReject(), frame, n_resamples=100, random_state=0)
    assert figures["furniture_neutral"] == 0.0
    assert figures["per_class"]["reject"]["recall"] == 1.0


def test_a_file_without_the_expected_columns_is_a_clear_error(tmp_path):
    (tmp_path / realnews.FILE).write_text("text,label\nx,neutral\n")
    with pytest.raises(InputError, match="missing column"):
        realnews.load(tmp_path / realnews.FILE)
