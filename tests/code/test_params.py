"""params.yaml: typed sections, every problem reported at once with its dotted name, overrides as `-S`."""

import pytest
import yaml

from pipeline.files import InputError
from pipeline.models.families import HYPERPARAMETERS
from pipeline.params import load_params, override, validate
from tests.conftest import PARAMS


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(PARAMS.read_text())


def test_the_shipped_params_are_valid_against_the_model_registry():
    params = load_params(PARAMS, families=HYPERPARAMETERS)
    assert params.train.grid == params.train.search.grids[params.train.family]
    grids = params.train.search.grids.values()
    assert all(isinstance(values, list) for grid in grids for values in grid.values())


def test_every_bad_value_is_reported_at_once_with_its_dotted_name(raw):
    bad = yaml.safe_load(yaml.safe_dump(raw))
    bad["prepare"]["test_size"] = 1.5
    bad["featurize"]["tfidf"]["char_ngram_max"] = 1
    bad["featurize"]["embeddings"]["colour"] = "blue"
    bad["featurize"]["embeddings"]["precision"] = "int4"
    bad["featurize"]["embeddings"]["layers"] = 7
    bad["train"]["search"]["metric"] = "auc"
    bad["evaluate"]["bootstrap_resamples"] = 0
    del bad["mlflow"]["experiment_name"]
    with pytest.raises(InputError) as raised:
        validate(bad, "params.yaml")
    message = str(raised.value)
    assert message.startswith("params.yaml: 8 problem(s):")
    for expected in ("prepare.test_size: Input should be less than 1 (got 1.5)",
                     "featurize.tfidf: Value error, char_ngram_max (1) is below char_ngram_min (2)",
                     "featurize.embeddings.colour: unknown setting (a typo?)",
                     "featurize.embeddings.precision: "
                     "Input should be 'float32', 'bfloat16' or 'int8' (got 'int4')",
                     "featurize.embeddings.layers: Input should be less than or equal to 6 (got 7)",
                     "train.search.metric: Input should be 'macro_f1', 'f_avg' or 'accuracy' (got 'auc')",
                     "evaluate.bootstrap_resamples: Input should be greater than or equal to 100 (got 0)",
                     "mlflow.experiment_name: missing"):
        assert f"\n  {expected}" in message


def test_family_and_grid_keys_are_checked_against_the_registry(raw):
    params = validate(raw)
    with pytest.raises(InputError) as raised:
        override(params, {"train.family": "forest", "train.search.grids.nbsvm.Cee": [1.0]},
                 families=HYPERPARAMETERS)
    message = str(raised.value)
    assert "train.family: unknown family 'forest'; expected one of tfidf-logreg," in message
    assert "train.search.grids.nbsvm.Cee: not a hyperparameter of nbsvm (expected one of C, alpha," in message


def test_a_family_without_a_grid_is_an_error(raw):
    params = override(validate(raw), {"train.search.grids": {"tfidf-logreg": {"C": 1.0}}})
    with pytest.raises(InputError, match="train.search.grids: no grid for the chosen family 'nbsvm'"):
        override(params, {"train.family": "nbsvm"}, families=HYPERPARAMETERS)


def test_overrides_work_like_dvc_exp_run_set_and_single_values_become_lists(raw):
    params = override(validate(raw), {"train.family": "nbsvm", "train.search.grids.nbsvm.C": 0.5,
                                      "featurize.tfidf.char_ngram_max": 4})
    assert params.train.family == "nbsvm"
    assert params.train.grid["C"] == [0.5]
    assert params.featurize.tfidf.char_ngram_max == 4
    assert validate(raw).featurize.tfidf.char_ngram_max == 5  # the original is untouched


def test_not_yaml_is_a_clear_error(tmp_path):
    (tmp_path / "params.yaml").write_text("train: [unclosed\n")
    with pytest.raises(InputError, match="params.yaml: not valid YAML"):
        load_params(tmp_path / "params.yaml")
