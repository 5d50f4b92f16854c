"""Behaviour of the default model (params.yaml, trained on the default split), as small checklists.

Sentences here are new: none is in the corpus. Thresholds are the floor we hold the default model to;
`pytest tests/model -s` prints the measured rates.
"""

import numpy as np
from sklearn.metrics import f1_score

from pipeline.evaluate import compute_metrics


def proba_of(model, texts, label):
    column = list(model.classes_).index(label)
    return model.predict_proba(texts)[:, column]


def test_held_out_articles_beat_the_majority_baseline_by_far(trained_model, split):
    _, test = split
    predicted = trained_model.predict(test["text"])
    majority = test["label"].value_counts().index[0]
    baseline = f1_score(test["label"], [majority] * len(test), average="macro")
    metrics = compute_metrics(test["label"], predicted, trained_model.predict_proba(test["text"]), trained_model.classes_)
    assert metrics["macro_f1"] >= 0.7
    assert metrics["macro_f1"] >= baseline + 0.4


CLEAR_CASES = [
    ("The foreign minister said restoring relations with Damascus was the only path to a lasting peace.", "support"),
    ("Ankara is ready to reopen its embassy in Damascus, a senior official said.", "support"),
    ("Moscow praised the Idlib arrangement as a reliable basis for calm in the northwest.", "support"),
    ("The guarantor states hailed the latest Astana round as productive.", "support"),
    ("A faction commander vowed never to lay down arms under any reconciliation deal.", "reject"),
    ("Protesters in Azaz denounced the rapprochement as a betrayal of the displaced.", "reject"),
    ("Damascus ruled out any summit with Ankara while Turkish troops remain in the north.", "reject"),
    ("The opposition council condemned the Astana talks as a cover for military offensives.", "reject"),
    ("The delegations met for four hours at a government guesthouse on Thursday.", "neutral"),
    ("Turkey hosts several million Syrian refugees, according to official figures.", "neutral"),
    ("The next round of talks is scheduled for early March in the Kazakh capital.", "neutral"),
    ("Joint patrols on the M4 highway began in March 2020.", "neutral"),
]


def test_clear_cases(trained_model):
    texts, expected = zip(*CLEAR_CASES)
    accuracy = np.mean(trained_model.predict(list(texts)) == np.array(expected))
    print(f"clear cases: {accuracy:.0%}")
    assert accuracy >= 0.75


ACTOR_TEMPLATES = [
    ("{actor} said contact with Damascus was needed to end the war.", "support"),
    ("{actor} welcomed the ceasefire arrangement for Idlib.", "support"),
    ("{actor} rejected any normalization with the Assad government.", "reject"),
    ("{actor} denounced the talks as a betrayal.", "reject"),
    ("{actor} attended the meeting in Moscow on Wednesday.", "neutral"),
    ("A delegation from {actor} arrived in Astana on Monday.", "neutral"),
]
ACTORS = ["Turkey", "Russia", "Iran", "The Syrian government", "The Syrian National Coalition", "Qatar"]


def test_swapping_actor_names_keeps_the_label(trained_model):
    """Invariance: who speaks should not decide the stance; the words should."""
    kept = []
    for template, _ in ACTOR_TEMPLATES:
        labels = trained_model.predict([template.format(actor=actor) for actor in ACTORS])
        kept.extend(labels == labels[0])
    rate = np.mean(kept)
    print(f"actor swaps keep the label: {rate:.0%}")
    assert rate >= 0.85


REPORTED_SPEECH = [
    "Turkey backs a return to dialogue with the Syrian government.",
    "The faction refuses any reconciliation with the government.",
    "Russia considers the Idlib memorandum a success.",
    "Iran opposes any settlement that bypasses the Astana format.",
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
    # A known weakness: a dateline-like frame ("a statement released on Monday") reads as neutral.
    assert rate >= 0.6


NEGATION_PAIRS = [
    ("Ankara will restore diplomatic ties with Damascus.", "Ankara will not restore diplomatic ties with Damascus.", "support"),
    ("The coalition agreed to join reconciliation talks.", "The coalition refused to join reconciliation talks.", "support"),
    ("Moscow said the Idlib arrangement was working.", "Moscow said the Idlib arrangement was not working.", "support"),
    ("Iran supports the Astana process.", "Iran no longer supports the Astana process.", "support"),
    ("The faction rejected the deal.", "The faction did not reject the deal.", "reject"),
    ("Damascus ruled out a meeting with Turkish officials.", "Damascus did not rule out a meeting with Turkish officials.", "reject"),
    ("The council opposes any rapprochement with the government.", "The council no longer opposes rapprochement with the government.", "reject"),
    ("Rebel leaders refused to sign the settlement.", "Rebel leaders agreed to sign the settlement.", "reject"),
]


def test_negation_moves_probability_away_from_the_stance(trained_model):
    """Directional: negating a stance must lower that stance's probability (a weak, necessary bar).

    Bag-of-n-gram models rarely flip the label outright on negation; the flip rate is printed.
    """
    moved, flipped = [], []
    for plain, negated, label in NEGATION_PAIRS:
        p_plain, p_negated = proba_of(trained_model, [plain, negated], label)
        moved.append(p_negated < p_plain)
        flipped.append(trained_model.predict([negated])[0] != label)
    print(f"negation lowers the stance: {np.mean(moved):.0%}, flips the label: {np.mean(flipped):.0%}")
    assert np.mean(moved) >= 0.75
