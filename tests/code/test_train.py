"""Model selection: folds grouped by article, the search report, and the refit on the training split."""

import numpy as np
import pandas as pd
import pytest

from pipeline.featurize import featurize
from pipeline.files import InputError
from pipeline.models.families import HYPERPARAMETERS, RAW_TEXT
from pipeline.params import load_params, override
from pipeline.splits import article_folds
from pipeline.train import TrainingData, candidates, train
from tests.conftest import PARAMS

STANCE_WORDS = {"support": "welcomed the deal warmly", "reject": "denounced the deal angrily",
                "neutral": "met in Moscow on Monday"}


def training_frame(n_articles: int = 12) -> pd.DataFrame:
    rows = []
    for a in range(n_articles):
        for i, label in enumerate(["support", "reject", "neutral"] * 2):
            rows.append({"doc_id": f"art-{a}", "sentence_id": f"art-{a}-{i}", "label": label,
                         "text": f"Officials of group {a} {STANCE_WORDS[label]} item {i}.",
                         "target": "t-one" if a % 2 else "t-two", "source": "Wire"})
    return pd.DataFrame(rows)


def training_data(frame) -> TrainingData:
    """TF-IDF blocks only (no MiniLM), as featurize writes them with embeddings disabled."""
    params = override(load_params(PARAMS), {"featurize.embeddings.enabled": False})
    return TrainingData(frame, *featurize(frame["text"].tolist(), params.featurize))


def test_no_article_is_in_two_folds_and_every_row_is_validated_once():
    frame = training_frame()
    folds = article_folds(frame["label"], frame["doc_id"], n_splits=4, random_state=0)
    assert len(folds) == 4
    validated = np.concatenate([validation for _, validation in folds])
    assert sorted(validated) == list(range(len(frame)))
    for fit_rows, validation_rows in folds:
        assert set(frame["doc_id"].iloc[fit_rows]).isdisjoint(frame["doc_id"].iloc[validation_rows])


def search_params(**changes):
    """The train section with a small, fast search; `changes` are dotted names under `train.`."""
    base = {"train.search.cv_folds": 3, "train.search.n_jobs": 1, "train.family": "tfidf-logreg",
            "train.search.grids": {"tfidf-logreg": {"C": [0.01, 10.0], "class_weight": "balanced"}}}
    changes = {**base, **{f"train.{name}": value for name, value in changes.items()}}
    return override(load_params(PARAMS), changes, families=HYPERPARAMETERS).train


def test_search_reports_every_candidate_and_refits_the_best():
    model, report = train(training_data(training_frame()), search_params())
    assert report["family"] == "tfidf-logreg" and report["cv_folds"] == 3
    assert [c["params"]["C"] for c in report["candidates"]] == [0.01, 10.0]
    means = [c["mean"] for c in report["candidates"]]
    assert report["best"] == int(np.argmax(means))
    assert report["chosen"] == report["candidates"][report["best"]]["params"]
    assert all(len(c["fold_scores"]) == 3 for c in report["candidates"])
    assert model.named_steps["classifier"].C == report["chosen"]["C"]
    assert list(model.predict(["Officials of group 99 denounced the deal angrily item 7."])) == ["reject"]


def test_search_results_do_not_depend_on_the_number_of_jobs():
    data = training_data(training_frame())
    serial = train(data, search_params())[1]
    parallel = train(data, search_params(**{"search.n_jobs": 2}))[1]
    def fold_scores(report):
        return [c["fold_scores"] for c in report["candidates"]]

    assert fold_scores(serial) == fold_scores(parallel)


@pytest.mark.parametrize("setting, n_targets, expected", [
    ("auto", 1, False), ("auto", 4, True), (True, 1, True), (False, 4, False),
])
def test_target_aware_auto_turns_on_for_several_targets(setting, n_targets, expected):
    grid = candidates(search_params(target_aware=setting), n_targets)
    assert {c["target_aware"] for c in grid} == {expected}


def test_an_embeddings_family_without_embeddings_is_a_clear_error():
    with pytest.raises(InputError, match="featurize.embeddings.enabled: true"):
        grids = {"embeddings-logreg": {"C": 1.0}}
        params = search_params(family="embeddings-logreg", **{"search.grids": grids})
        train(training_data(training_frame()), params)


def test_a_value_scikit_learn_refuses_names_the_grid():
    params = search_params(**{"search.grids": {"tfidf-logreg": {"C": [-1.0]}}})
    with pytest.raises(InputError, match=r"train.search.grids.tfidf-logreg: The 'C' parameter"):
        train(training_data(training_frame()), params)


def test_embeddings_come_from_featurize_and_the_saved_model_embeds_raw_text():
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    frame = training_frame(6)
    params = override(load_params(PARAMS), {"featurize.embeddings.enabled": True})
    data = TrainingData(frame, *featurize(frame["text"].tolist(), params.featurize))
    assert data.embeddings.shape == (len(frame), 384)
    search = search_params(family="tfidf-embeddings-logreg", **{
        "search.grids": {"tfidf-embeddings-logreg": {"C": [1.0], "embedding_weight": [0.5, 2.0]}}})
    model, report = train(data, search)
    assert [c["params"]["embedding_weight"] for c in report["candidates"]] == [0.5, 2.0]
    # the model carries the encoder that computed the training embeddings, as params.yaml sets it
    assert model.named_steps["features"].embedder is data.embedder
    assert data.embedder.get_params() == params.featurize.embeddings.encoder()
    assert model.predict_proba(["Officials welcomed the deal warmly."]).shape == (1, 3)


def test_the_fine_tuned_family_searches_on_raw_text_and_learns_the_labels():
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    params = search_params(family="finetuned-minilm", target_aware=True, **{
        "search.grids": {"finetuned-minilm": {"epochs": [3], "learning_rate": [1e-4], "batch_size": [8]}}})
    model, report = train(training_data(training_frame(8)), params)
    assert model.named_steps["features"] == RAW_TEXT
    assert len(report["candidates"][0]["fold_scores"]) == 3
    probes = [f"Officials of group 99 {words} item 7." for words in STANCE_WORDS.values()]
    assert list(model.predict(pd.DataFrame({"text": probes, "target": "t-one"}))) == list(STANCE_WORDS)
