"""Behaviour of the default model (params.yaml, trained on the default split), as small checklists.

Sentences here and in pipeline/checklist.py are new: none is in the corpus. Thresholds are the floor we
hold the default model to, set a little under the measured rates; `pytest tests/model -s` prints them.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from pipeline import checklist
from pipeline.evaluate import selection_score


def test_held_out_articles_beat_the_majority_baseline_by_far(trained_model, split):
    _, test = split
    predicted = trained_model.predict(test[["text", "target"]])
    majority = test["label"].value_counts().index[0]
    baseline = f1_score(test["label"], [majority] * len(test), average="macro")
    macro_f1 = selection_score("macro_f1", test["label"], predicted)
    print(f"held-out macro-F1 {macro_f1:.3f} (majority baseline {baseline:.3f})")
    assert macro_f1 >= 0.7
    assert macro_f1 >= baseline + 0.4


CLEAR_CASES = [
    ("The foreign minister said restoring relations with Damascus was the only path to a lasting peace.", "support"),
    ("Ankara is ready to reopen its embassy in Damascus, a senior official said.", "support"),
    ("Moscow praised the Idlib ceasefire protocol as a reliable basis for calm in the northwest.", "support"),
    ("Gulf officials hailed Syria's return to the Arab League as a victory for Arab unity.", "support"),
    ("A faction commander vowed never to lay down arms under any reconciliation deal.", "reject"),
    ("Protesters in Azaz denounced the rapprochement with Damascus as a betrayal of the displaced.", "reject"),
    ("Damascus ruled out any summit with Ankara while Turkish troops remain in the north.", "reject"),
    ("The opposition coalition condemned the Arab embrace of Assad as a reward for mass murder.", "reject"),
    ("The delegations met for four hours at a government guesthouse on Thursday.", "neutral"),
    ("Turkey hosts several million Syrian refugees, according to official figures.", "neutral"),
    ("The Arab League foreign ministers will meet again in Cairo in early May.", "neutral"),
    ("Joint patrols on the M4 highway began in March 2020.", "neutral"),
]


def test_clear_cases(trained_model):
    texts, expected = zip(*CLEAR_CASES)
    accuracy = np.mean(trained_model.predict(list(texts)) == np.array(expected))
    print(f"clear cases: {accuracy:.0%}")
    assert accuracy >= 0.75


@pytest.fixture(scope="module")
def rates(trained_model):
    measured = checklist.run_checks(trained_model)
    print("behaviour checks: " + ", ".join(f"{name} {rate:.0%}" for name, rate in measured.items()))
    return measured


def test_swapping_actor_names_keeps_the_label(rates):
    """Invariance: who speaks should not decide the stance; the words should."""
    assert rates["actor_swap"] >= 0.8


def test_page_furniture_around_a_sentence_keeps_the_label(rates):
    assert rates["furniture"] >= 0.8


def test_negation_moves_probability_away_from_the_stance(trained_model):
    """Directional: negating a stance must lower that stance's probability (a weak, necessary bar).

    Bag-of-n-gram models rarely flip the label outright on negation; `rates['negation']` measures flips.
    """
    moved = []
    for plain, negated, label, target in checklist.NEGATION_PAIRS:
        frame = pd.DataFrame({"text": [plain, negated], "target": [target] * 2})
        p_plain, p_negated = trained_model.predict_proba(frame)[:, list(trained_model.classes_).index(label)]
        moved.append(p_negated < p_plain)
    print(f"negation lowers the stance: {np.mean(moved):.0%}")
    assert np.mean(moved) >= 0.55


REPORTED_SPEECH = [
    "Turkey backs a return to dialogue with the Syrian government.",
    "The faction refuses any reconciliation with the government.",
    "Russia considers the Idlib memorandum a success.",
    "Qatar opposes restoring Syria's seat in the Arab League.",
    "The coalition will not negotiate with Damascus.",
    "The Turkish opposition wants relations with Damascus repaired quickly.",
]
FRAMES = [
    "{s}", "A senior official said: {s}", "According to a statement released on Monday, {s_lower}",
    "Officials told reporters that {s_lower}",
]


def test_reported_speech_keeps_the_label(trained_model):
    """Invariance: attributing a stance to a speaker does not neutralise it."""
    kept = []
    for sentence in REPORTED_SPEECH:
        variants = [f.format(s=sentence, s_lower=sentence[0].lower() + sentence[1:]) for f in FRAMES]
        labels = trained_model.predict(variants)
        kept.extend(labels[1:] == labels[0])
    rate = np.mean(kept)
    print(f"reported speech keeps the label: {rate:.0%}")
    assert rate >= 0.6
