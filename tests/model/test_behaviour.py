"""Behaviour of the default model (params.yaml, trained on the default split), as small checklists.

Every check lives in pipeline/checklist.py's CHECKS with the floor it is held to here; the evaluate stage
reports the same rates. `pytest tests/model -s` prints them.
"""

import pytest
from sklearn.metrics import f1_score

from pipeline.checklist import CHECKS
from pipeline.metrics import selection_score


def test_held_out_articles_beat_the_majority_baseline_by_far(trained_model, split):
    _, test = split
    predicted = trained_model.predict(test[["text", "target"]])
    majority = test["label"].value_counts().index[0]
    baseline = f1_score(test["label"], [majority] * len(test), average="macro")
    macro_f1 = selection_score("macro_f1", test["label"], predicted)
    print(f"held-out macro-F1 {macro_f1:.3f} (majority baseline {baseline:.3f})")
    assert macro_f1 >= 0.7
    assert macro_f1 >= baseline + 0.4


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_behaviour_check_meets_its_floor(trained_model, check):
    rate = check.run(trained_model)
    print(f"{check.name}: {rate:.0%} (floor {check.floor:.0%}): {check.description}")
    assert rate >= check.floor
