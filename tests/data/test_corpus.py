"""The shipped corpus: valid, big enough, balanced enough, and split without leakage."""

import re

from pipeline import LABELS
from pipeline.scoring import split_sentences
from tests.conftest import ROOT


def test_corpus_meets_the_minimum_size(corpus):
    assert len(corpus) >= 300
    assert corpus["doc_id"].nunique() >= 20


def test_every_label_is_well_represented(corpus):
    shares = corpus["label"].value_counts(normalize=True)
    assert set(shares.index) == set(LABELS)
    assert shares.min() >= 0.2


def test_each_article_has_one_target_and_one_source(corpus):
    per_doc = corpus.groupby("doc_id")[["target", "source"]].nunique()
    assert (per_doc == 1).all().all()


def test_sentences_are_single_sentences(corpus):
    assert not corpus["text"].str.contains("\n").any()
    words = corpus["text"].str.split().str.len()
    assert words.between(4, 80).all()


def test_sentence_ids_start_with_their_doc_id(corpus):
    assert (corpus.apply(lambda row: row["sentence_id"].startswith(row["doc_id"]), axis=1)).all()


def test_split_has_every_label_on_both_sides(split):
    train, test = split
    assert set(train["label"]) == set(test["label"]) == set(LABELS)
    assert set(train["doc_id"]).isdisjoint(test["doc_id"])


def test_examples_are_not_training_data(corpus):
    """The demo articles must show the model on text it has not seen."""
    known = {re.sub(r"\W+", " ", t).lower().strip() for t in corpus["text"]}
    for path in (ROOT / "examples").glob("*.txt"):
        for sentence in split_sentences(path.read_text(encoding="utf-8")):
            assert re.sub(r"\W+", " ", sentence).lower().strip() not in known, (path, sentence)
