"""Choosing what to label: the strategies, the candidates (nothing labelled, no repeats) and their context."""

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.data import normalize_text
from pipeline.models.families import assemble
from pipeline.models.features import StanceFeatures
from pipeline.sampling import POOL_FACTOR, candidates, choose, cluster_features, context, uncertainty
from pipeline.scoring import Document, TableInput, read_article

SURE, UNSURE, UNSURER = [0.9, 0.05, 0.05], [0.5, 0.3, 0.2], [0.36, 0.33, 0.31]


@pytest.mark.parametrize("measure", ["margin", "entropy"])
def test_uncertainty_ranks_flat_probabilities_above_peaked_ones(measure):
    scores = uncertainty(np.array([SURE, UNSURE, UNSURER]), measure)
    assert scores[0] < scores[1] < scores[2]


def test_margin_is_one_minus_the_gap_between_the_top_two_labels():
    assert uncertainty(np.array([[0.6, 0.3, 0.1]]))[0] == pytest.approx(0.7)


def test_uncertainty_strategy_takes_the_least_sure_first():
    proba = np.array([SURE, UNSURER, UNSURE, SURE])
    assert choose(proba, 2, "uncertainty", random_state=0).tolist() == [1, 2]


def test_random_is_deterministic_for_a_seed_and_never_repeats():
    proba = np.tile(SURE, (100, 1))
    first = choose(proba, 20, "random", random_state=3)
    assert first.tolist() == choose(proba, 20, "random", random_state=3).tolist()
    assert first.tolist() != choose(proba, 20, "random", random_state=4).tolist()
    assert len(set(first)) == 20


def near_copies_and_others(n_copies=12, n_others=8):
    """The most uncertain sentences are near copies of one quote (one direction); the others point each
    their own way and are a little more sure."""
    rng = np.random.default_rng(0)
    copies = np.tile([1.0] + [0.0] * 9, (n_copies, 1)) + rng.normal(0, 0.01, (n_copies, 10))
    others = np.eye(10)[1:n_others + 1] + rng.normal(0, 0.01, (n_others, 10))
    proba = np.array([UNSURER] * n_copies + [UNSURE] * n_others)
    return proba, np.vstack([copies, others])


def test_diverse_uncertainty_spreads_a_batch_over_clusters():
    proba, vectors = near_copies_and_others()
    plain = choose(proba, 4, "uncertainty", random_state=0)
    diverse = choose(proba, 4, "diverse-uncertainty", random_state=0, features=lambda rows: vectors[rows])
    assert all(i < 12 for i in plain)  # four variants of one quote
    assert sum(i < 12 for i in diverse) == 1  # one of them, and three other sentences
    assert diverse.tolist() == choose(proba, 4, "diverse-uncertainty", random_state=0,
                                      features=lambda rows: vectors[rows]).tolist()


def test_diverse_uncertainty_embeds_only_its_pool():
    proba, vectors = near_copies_and_others(n_copies=30, n_others=9)
    asked = []

    def features(rows):
        asked.append(len(rows))
        return vectors[rows]

    choose(proba, 2, "diverse-uncertainty", random_state=0, features=features)
    assert asked == [2 * POOL_FACTOR]


def test_unknown_strategy_is_an_error():
    with pytest.raises(ValueError, match="unknown strategy"):
        choose(np.array([SURE]), 1, "loudest", random_state=0)


ARTICLE = """Envoys meet in Baghdad

Envoys from Turkey and Syria met on Thursday. Ankara said it was ready to restore ties.

Read also: Border crossings reopen
"""


def test_an_articles_context_is_its_headline_and_neighbours():
    frame = context(read_article("a.txt", ARTICLE))
    assert frame["headline"].eq("Envoys meet in Baghdad").all()
    second = frame.iloc[2]
    assert second["previous"] == "Envoys from Turkey and Syria met on Thursday."
    assert second["next"] == "Read also: Border crossings reopen"
    assert frame.iloc[0]["previous"] == "" and frame.iloc[-1]["next"] == ""


def test_a_tables_rows_are_grouped_into_articles_by_doc_id(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"doc_id": ["a", "b", "a"], "headline": ["A head", "B head", "A head"],
                  "text": ["A one.", "B one.", "A two."]}).to_csv(path, index=False)
    frame = context(TableInput(path, "text").check().whole())
    assert frame["article"].tolist() == [f"{path}#a", f"{path}#b", f"{path}#a"]
    assert frame.iloc[0]["next"] == "A two." and frame.iloc[2]["previous"] == "A one."
    assert frame.iloc[1]["previous"] == frame.iloc[1]["next"] == ""
    assert frame["headline"].tolist() == ["A head", "B head", "A head"]


def scored(document: Document) -> pd.DataFrame:
    n = len(document.sentences)
    return pd.DataFrame({"doc": document.name, "sentence_index": document.indices, "text": document.sentences,
                         "label": "neutral", "p_support": [0.2] * n, "p_reject": [0.2] * n,
                         "p_neutral": [0.6] * n})


def test_candidates_leave_out_labelled_sentences_and_repeated_furniture():
    documents = [read_article("a.txt", ARTICLE), read_article("b.txt", ARTICLE.replace("Ankara", "Damascus"))]
    frame = candidates(documents, pd.concat([scored(d) for d in documents], ignore_index=True),
                       {normalize_text("ENVOYS from Turkey and  Syria met on Thursday.")})
    texts = frame["text"].tolist()
    assert "Envoys from Turkey and Syria met on Thursday." not in texts  # labelled (case, spaces aside)
    assert texts.count("Read also: Border crossings reopen") == 1  # furniture on both pages: once
    assert texts.count("Envoys meet in Baghdad") == 1
    assert "Damascus said it was ready to restore ties." in texts
    assert frame.set_index("text").loc["Damascus said it was ready to restore ties.", "article"] == "b.txt"


def test_cluster_features_of_a_tfidf_model_are_a_dense_projection_of_its_own_vectors():
    texts = [f"Ankara and Damascus talk {word}" for word in ("peace", "trade", "borders", "refugees")] * 3
    model = assemble(StanceFeatures(tfidf=TfidfVectorizer()), LogisticRegression())
    model.fit(texts, ["support", "reject", "neutral", "neutral"] * 3)
    vectors = cluster_features(model, texts[:5], random_state=0)
    assert vectors.shape[0] == 5 and vectors.shape[1] < len(model.named_steps["features"].tfidf.vocabulary_)
    assert np.allclose(vectors, cluster_features(model, texts[:5], random_state=0))
