"""The saved model: one object, raw text in, n predictions for n inputs, safe to load."""

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from pipeline import model_io
from pipeline.files import InputError
from pipeline.model import TextColumn, build_classifier, build_model
from pipeline.params import load_params
from tests.conftest import PARAMS

TEXTS = ["Ankara wants ties restored.", "The faction refused any talks.", "Ministers met in Moscow.",
         "Officials welcomed the deal.", "Protesters denounced the deal.", "The meeting lasted four hours."]
LABELS = ["support", "reject", "neutral"] * 2


@pytest.fixture(scope="module")
def small_model():
    return build_model(load_params("featurize", PARAMS), load_params("train", PARAMS)).fit(TEXTS, LABELS)


@pytest.mark.parametrize("make_input", [
    list, np.array, pd.Series, lambda texts: pd.DataFrame({"text": texts, "other": 1}),
])
def test_n_inputs_give_n_predictions(small_model, make_input):
    for n in (1, 2, 5):
        batch = make_input(TEXTS[:n])
        assert len(small_model.predict(batch)) == n
        assert small_model.predict_proba(batch).shape == (n, 3)


def test_list_and_dataframe_give_the_same_answer(small_model):
    from_list = small_model.predict_proba(TEXTS)
    from_frame = small_model.predict_proba(pd.DataFrame({"text": TEXTS}))
    np.testing.assert_allclose(from_list, from_frame)


def test_single_string_is_refused_not_split_into_characters():
    with pytest.raises(TypeError, match="single string"):
        TextColumn().transform("Ankara wants ties restored.")


def test_dataframe_without_text_column_is_refused():
    with pytest.raises(ValueError, match="no 'text' column"):
        TextColumn().transform(pd.DataFrame({"sentence": ["x"]}))


def test_missing_values_become_empty_text():
    assert list(TextColumn().transform(["a", None, np.nan])) == ["a", "", ""]


def test_skops_round_trip_is_exact_and_byte_stable(small_model, tmp_path):
    model_io.save(small_model, tmp_path / "a.skops")
    loaded = model_io.load(tmp_path / "a.skops")
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), small_model.predict_proba(TEXTS))
    model_io.save(small_model, tmp_path / "b.skops")
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()


class Sneaky(TextColumn):
    """A type outside the allowlist."""


def test_untrusted_types_are_refused(tmp_path):
    sio.dump(Sneaky(), tmp_path / "sneaky.skops")
    with pytest.raises(InputError, match="refusing to load untrusted types: .*Sneaky"):
        model_io.load(tmp_path / "sneaky.skops")


def test_not_a_model_file(tmp_path):
    (tmp_path / "m.skops").write_text("hello")
    with pytest.raises(InputError, match="not a readable skops model file"):
        model_io.load(tmp_path / "m.skops")


def test_linear_svm_family_gives_probabilities():
    params = dict(load_params("train", PARAMS), classifier="linear_svm")
    model = build_model(load_params("featurize", PARAMS), params).fit(TEXTS * 2, LABELS * 2)
    assert model.predict_proba(TEXTS).shape == (6, 3)


def test_unknown_classifier_family():
    with pytest.raises(InputError, match="unknown classifier 'forest'"):
        build_classifier({"classifier": "forest", "random_state": 0})
