"""The pyfunc face of a logged model (what `mlflow models serve` answers with)."""

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from pipeline.serving import StanceScorer, request_problems

TEXTS = ["Ankara said it was ready to restore ties with Damascus.", "The faction refused any reconciliation."]


def test_each_row_gets_its_label_and_the_probabilities_stance_score_writes(trained_model):
    frame = StanceScorer(trained_model).predict(pd.DataFrame({"text": TEXTS}))
    assert list(frame.columns) == ["label", "p_support", "p_reject", "p_neutral"]
    assert list(frame["label"]) == list(trained_model.predict(TEXTS))
    assert frame[["p_support", "p_reject", "p_neutral"]].sum(axis=1).round(3).eq(1).all()


@pytest.mark.parametrize("records, message", [
    ([{"headline": "x"}], "no column 'text' (columns: headline)"),
    ([{"text": "Fine."}, {"text": " "}, {"text": None}],
     "column 'text': empty or not a string in row(s) 1, 2"),
    ([{"text": 5}], "column 'text': empty or not a string in row(s) 0"),
])
def test_a_bad_request_names_what_is_wrong(trained_model, records, message):
    assert request_problems(pd.DataFrame(records)) == [message]
    with pytest.raises(MlflowException, match="row|column") as raised:
        StanceScorer(trained_model).predict(pd.DataFrame(records))
    assert raised.value.get_http_status_code() == 400
