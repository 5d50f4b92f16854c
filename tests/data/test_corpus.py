"""The shipped corpus: its contract, size, label shares, structure, duplicates and annotation record."""

import re

import pandas as pd
import pytest

from pipeline import LABELS
from pipeline.corpus import agreement, near_duplicate_rate
from pipeline.scoring import split_sentences
from tests.conftest import CORPUS, ROOT

ANNOTATION = ROOT / "data" / "annotation"
TARGETS = {"ankara-damascus-normalization", "opposition-regime-reconciliation", "idlib-foreign-arrangements",
           "arab-normalization"}


@pytest.fixture(scope="module")
def raw():
    """Every column of the raw file, metadata included (load_sentences keeps the contract's columns)."""
    return pd.read_csv(CORPUS, dtype=str, keep_default_na=False)


def test_corpus_meets_the_contract_and_the_size(corpus):
    assert len(corpus) >= 3500
    assert corpus["doc_id"].nunique() >= 190
    assert set(corpus["target"]) == TARGETS


@pytest.mark.parametrize("label, low, high", [
    ("neutral", 0.55, 0.70), ("reject", 0.15, 0.30), ("support", 0.15, 0.25),
])
def test_label_shares_are_within_the_agreed_ranges(corpus, label, low, high):
    assert low <= (corpus["label"] == label).mean() <= high


def test_repeated_lines_are_page_furniture_or_a_headline_repeated_on_its_page(raw):
    """Real pages repeat their headline in breadcrumbs and link lists, and share furniture lines ("Most
    read"); the data contract keeps one copy of each. Nothing else may repeat."""
    normalized = raw["text"].str.casefold().str.split().str.join(" ")
    for _, rows in raw[normalized.duplicated(keep=False)].groupby(normalized):
        same_page_headline = rows["doc_id"].nunique() == 1 and "headline" in set(rows["part"])
        assert same_page_headline or set(rows["part"]) == {"furniture"}, rows["sentence_id"].tolist()
        assert rows["label"].nunique() == 1
    assert near_duplicate_rate(raw) < 0.01


def test_every_article_has_a_headline_first_and_at_least_8_sentences(raw):
    for doc_id, rows in raw.groupby("doc_id", sort=False):
        assert rows["part"].iloc[0] == "headline", doc_id
        assert len(rows) >= 8, doc_id
    assert set(raw["part"]) == {"headline", "body", "furniture"}


def test_each_article_has_one_target_source_style_and_date(raw):
    per_doc = raw.groupby("doc_id")[["target", "source", "style", "date"]].nunique()
    assert (per_doc == 1).all().all()


def test_sentences_are_single_lines_of_varied_length(corpus):
    assert not corpus["text"].str.contains("\n").any()
    words = corpus["text"].str.split().str.len()
    assert words.min() <= 5 and words.max() >= 40


def test_hard_cases_are_at_least_a_fifth_of_stance_sentences(raw):
    from pipeline.corpus import HARD_CASE_TAGS

    stance = raw[raw["label"] != "neutral"]
    assert stance["tags"].str.split().map(lambda tags: bool(HARD_CASE_TAGS & set(tags))).mean() >= 0.2


def test_final_labels_are_the_agreed_or_the_adjudicated_ones(raw):
    writer = pd.read_csv(ANNOTATION / "writer.csv", dtype=str).set_index("sentence_id")["label"]
    annotator = pd.read_csv(ANNOTATION / "annotator.csv", dtype=str).set_index("sentence_id")["label"]
    decisions = pd.read_csv(ANNOTATION / "adjudication.csv", dtype=str)
    adjudicated = decisions.set_index("sentence_id")["adjudicated"]
    final = raw.set_index("sentence_id")["label"]
    agreed = writer == annotator
    assert (final[agreed.index[agreed]] == writer[agreed]).all()
    assert set(adjudicated.index) == set(agreed.index[~agreed])
    assert (final[adjudicated.index] == adjudicated).all()
    assert set(writer) | set(annotator) | set(adjudicated) <= set(LABELS)


def test_agreement_is_recomputed_from_the_raw_label_sets(raw):
    figures = agreement(raw, ANNOTATION)
    assert 0 < figures["kappa"] <= 1
    assert set(figures["kappa_per_target"]) == TARGETS
    assert figures["adjudicated_to_writer"] + figures["adjudicated_to_annotator"] == figures["disagreements"]


def test_split_has_every_label_and_target_on_both_sides(split):
    train, test = split
    assert set(train["label"]) == set(test["label"]) == set(LABELS)
    assert set(train["target"]) == set(test["target"]) == TARGETS
    assert set(train["doc_id"]).isdisjoint(test["doc_id"])


def test_examples_are_not_training_data(corpus):
    """The demo articles must show the model on text it has not seen."""
    known = {re.sub(r"\W+", " ", t).lower().strip() for t in corpus["text"]}
    for path in (ROOT / "examples").glob("*.txt"):
        for sentence in split_sentences(path.read_text(encoding="utf-8")):
            assert re.sub(r"\W+", " ", sentence).lower().strip() not in known, (path, sentence)
