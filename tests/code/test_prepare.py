"""The split: whole articles on one side, reproducible with the seed; failures leave outputs intact."""

import subprocess
import sys

import pandas as pd
import pytest

from pipeline.data import USER_COLUMNS, user_rows
from pipeline.files import InputError
from pipeline.splits import split_by_article
from tests.conftest import PARAMS, sentence, write_rows


def toy_corpus(n_docs=20, per_doc=6) -> pd.DataFrame:
    labels = ["support", "reject", "neutral"]
    rows = [
        sentence(d * 100 + i, labels[(d + i) % 3], doc=f"art-{d}", text=f"Sentence {i} of article {d}.")
        for d in range(n_docs) for i in range(per_doc)
    ]
    return pd.DataFrame(rows)


def test_no_article_on_both_sides():
    train, test = split_by_article(toy_corpus(), test_size=0.2, random_state=1)
    assert set(train["doc_id"]).isdisjoint(test["doc_id"])
    assert len(train) + len(test) == len(toy_corpus())


def test_holds_out_about_test_size_of_articles():
    _, test = split_by_article(toy_corpus(n_docs=20), test_size=0.2, random_state=1)
    assert test["doc_id"].nunique() == 4


def test_same_seed_same_split_other_seed_other_split():
    corpus = toy_corpus()
    first = split_by_article(corpus, 0.2, random_state=7)[1]["doc_id"].unique()
    again = split_by_article(corpus, 0.2, random_state=7)[1]["doc_id"].unique()
    other = split_by_article(corpus, 0.2, random_state=8)[1]["doc_id"].unique()
    assert sorted(first) == sorted(again)
    assert sorted(first) != sorted(other)


def test_every_label_in_test_when_groups_allow():
    _, test = split_by_article(toy_corpus(), 0.2, random_state=3)
    assert set(test["label"]) == {"support", "reject", "neutral"}


def test_too_few_articles_is_a_clear_error():
    with pytest.raises(InputError, match="need at least 5 articles"):
        split_by_article(toy_corpus(n_docs=3), 0.2, random_state=0)


def test_bad_input_exits_nonzero_and_keeps_existing_splits(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS.read_text())
    write_rows(tmp_path / "bad.csv", [sentence(1, "maybe")])
    train_out = tmp_path / "prepared" / "train.csv"
    train_out.parent.mkdir()
    train_out.write_text("previous split\n")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.prepare", "bad.csv", "prepared"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "bad.csv: 1 problem(s)" in result.stderr
    assert "row 1 (line 2), column 'label': unknown label 'maybe'" in result.stderr
    assert "Traceback" not in result.stderr
    assert train_out.read_text() == "previous split\n"
    assert not (tmp_path / "prepared" / "test.csv").exists()


def test_user_labels_join_the_training_split_and_the_test_split_stays_the_corpus(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS.read_text())
    corpus = toy_corpus()
    write_rows(tmp_path / "raw.csv", corpus.to_dict("records"))
    relabelled = corpus.iloc[0]
    users = [{**sentence(900 + i, "support", doc="user-mine-1", text=f"My own sentence {i}."),
              "sentence_id": f"user-mine-1-s{i}", "annotator": "me", "article": "mine.txt"} for i in range(3)]
    users.append({**users[0], "sentence_id": "user-mine-1-s9", "text": relabelled["text"], "label": "reject"})
    (tmp_path / "user").mkdir()
    write_rows(tmp_path / "user" / "mine.csv", users, columns=USER_COLUMNS)

    def prepare(*extra):
        subprocess.run([sys.executable, "-m", "pipeline.prepare", "raw.csv", "prepared", *extra],
                       cwd=tmp_path, check=True, capture_output=True)
        return [pd.read_csv(tmp_path / "prepared" / f"{name}.csv", dtype=str) for name in ("train", "test")]

    train, test = prepare()
    train_with, test_with = prepare("--user-labels", "user")
    assert user_rows(train_with).sum() == 4 and not user_rows(test_with).any()
    assert relabelled["sentence_id"] not in set(train_with["sentence_id"]) | set(test_with["sentence_id"])
    unchanged = test[test["sentence_id"] != relabelled["sentence_id"]]
    assert test_with.reset_index(drop=True).equals(unchanged.reset_index(drop=True))
    assert len(train_with) == len(train) + 4 - (relabelled["sentence_id"] in set(train["sentence_id"]))
