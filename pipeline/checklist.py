"""Behaviour checks in the spirit of CheckList (Ribeiro et al., 2020), reported as pass rates.

Each check runs the model on sentences written for it (none is in the corpus) and measures how often it
behaves as a stance classifier should. CHECKS is the one registry: the evaluate stage runs every check into
metrics.json (`behaviour.<name>`), the report prints their descriptions, and tests/model holds the default
model to each check's floor (set a little under the rate measured when the floor was last moved).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN

ANKARA = "ankara-damascus-normalization"
OPPOSITION = "opposition-regime-reconciliation"
IDLIB = "idlib-foreign-arrangements"
ARAB = "arab-normalization"

ACTORS = [
    "Turkey's foreign minister", "A Russian envoy", "An Iranian diplomat", "A Syrian government adviser",
    "The head of the opposition coalition", "A Jordanian official", "A Kurdish politician in Qamishli",
    "A UN mediator",
]
ACTOR_TEMPLATES = [
    ("{actor} said restoring relations between Ankara and Damascus would help refugees return home.", ANKARA),
    ("{actor} called the planned meeting of Turkish and Syrian ministers a dangerous mistake.", ANKARA),
    ("{actor} urged armed groups to accept the settlement offered by Damascus.", OPPOSITION),
    ("{actor} dismissed the local reconciliation deals as surrender under another name.", OPPOSITION),
    ("{actor} praised the ceasefire protocol for Idlib as the best chance to protect civilians.", IDLIB),
    ("{actor} warned that the joint patrols in Idlib would collapse within weeks.", IDLIB),
    ("{actor} welcomed the reopening of Arab embassies in Damascus.", ARAB),
    ("{actor} said readmitting Syria to the Arab League rewarded years of atrocities.", ARAB),
    ("{actor} arrived in Moscow on Tuesday for two days of meetings.", ANKARA),
    ("{actor} is expected to brief reporters after the session in Amman.", ARAB),
]

NEGATION_PAIRS = [
    ("Ankara will restore full diplomatic ties with Damascus.",
     "Ankara will not restore full diplomatic ties with Damascus.", "support", ANKARA),
    ("The Turkish delegation agreed to a meeting of the two presidents.",
     "The Turkish delegation refused a meeting of the two presidents.", "support", ANKARA),
    ("Damascus ruled out talks with Turkey while its troops remain.",
     "Damascus did not rule out talks with Turkey while its troops remain.", "reject", ANKARA),
    ("The council accepted the reconciliation offer from the government.",
     "The council rejected the reconciliation offer from the government.", "support", OPPOSITION),
    ("The faction's commanders refused to sign the settlement in Daraa.",
     "The faction's commanders agreed to sign the settlement in Daraa.", "reject", OPPOSITION),
    ("The opposition body opposes any reconciliation with Damascus.",
     "The opposition body no longer opposes reconciliation with Damascus.", "reject", OPPOSITION),
    ("Moscow said the Idlib ceasefire was holding well.",
     "Moscow said the Idlib ceasefire was not holding.", "support", IDLIB),
    ("The armed groups rejected the new patrol arrangement on the M4.",
     "The armed groups accepted the new patrol arrangement on the M4.", "reject", IDLIB),
    ("Riyadh supports Syria's return to the Arab League.",
     "Riyadh does not support Syria's return to the Arab League.", "support", ARAB),
    ("Doha opposes reopening its embassy in Damascus.",
     "Doha no longer opposes reopening its embassy in Damascus.", "reject", ARAB),
]
FLIPPED = {"support": "reject", "reject": "support"}

FURNITURE_SENTENCES = [
    ("Turkish officials said a deal with Damascus was the only way to secure the border.", ANKARA),
    ("Protesters in Azaz vowed never to accept a reconciliation with the Assad government.", OPPOSITION),
    ("The Russian and Turkish defence ministries signed the Idlib protocol on Thursday evening.", IDLIB),
    ("Gulf commentators called the return of Syria to the Arab League a historic correction.", ARAB),
    ("Displaced families said the settlement offers were a trap designed to arrest their sons.", OPPOSITION),
    ("The Jordanian minister met his Syrian counterpart for three hours in Amman.", ARAB),
]
FURNITURE = [
    "Photo: Levant Wire Service. {s}",
    "{s} Read also: Lira slides again as central bank holds rates",
    "{s} Sign up for our morning newsletter.",
    "Share this article: Facebook | X | WhatsApp {s}",
    "{s} Translated from Arabic by the newsroom desk.",
]


def _predict(model, texts: list[str], targets: list[str]) -> np.ndarray:
    return model.predict(pd.DataFrame({TEXT_COLUMN: texts, TARGET_COLUMN: targets}))


def actor_swap(model) -> float:
    """Share of actor swaps whose label equals that of the template with the first actor."""
    kept = []
    for template, target in ACTOR_TEMPLATES:
        labels = _predict(model, [template.format(actor=a) for a in ACTORS], [target] * len(ACTORS))
        kept.extend(labels[1:] == labels[0])
    return float(np.mean(kept))


def negation(model) -> float:
    """Share of negated sentences labelled with the opposite stance of the original."""
    negated = [pair[1] for pair in NEGATION_PAIRS]
    labels = _predict(model, negated, [pair[3] for pair in NEGATION_PAIRS])
    flipped = [label == FLIPPED[pair[2]] for label, pair in zip(labels, NEGATION_PAIRS, strict=True)]
    return float(np.mean(flipped))


def furniture(model) -> float:
    """Share of furniture-wrapped sentences that keep the label of the bare sentence."""
    kept = []
    for sentence, target in FURNITURE_SENTENCES:
        variants = [sentence] + [wrapper.format(s=sentence) for wrapper in FURNITURE]
        labels = _predict(model, variants, [target] * len(variants))
        kept.extend(labels[1:] == labels[0])
    return float(np.mean(kept))


def negation_lowers_the_stance(model) -> float:
    """Share of negated sentences whose original stance lost probability (a weak, necessary bar: bag-of-n-gram
    models rarely flip the label outright)."""
    moved = []
    for plain, negated, label, target in NEGATION_PAIRS:
        pair = pd.DataFrame({TEXT_COLUMN: [plain, negated], TARGET_COLUMN: [target] * 2})
        p_plain, p_negated = model.predict_proba(pair)[:, list(model.classes_).index(label)]
        moved.append(p_negated < p_plain)
    return float(np.mean(moved))


REPORTED_SPEECH = [
    "Turkey backs a return to dialogue with the Syrian government.",
    "The faction refuses any reconciliation with the government.",
    "Russia considers the Idlib memorandum a success.",
    "Qatar opposes restoring Syria's seat in the Arab League.",
    "The coalition will not negotiate with Damascus.",
    "The Turkish opposition wants relations with Damascus repaired quickly.",
]
SPEECH_FRAMES = [
    "A senior official said: {s}", "According to a statement released on Monday, {s_lower}",
    "Officials told reporters that {s_lower}",
]


def reported_speech(model) -> float:
    """Share of attributed variants ("Officials told reporters that ...") with the bare sentence's label."""
    kept = []
    for sentence in REPORTED_SPEECH:
        variants = [sentence] + [f.format(s=sentence, s_lower=sentence[0].lower() + sentence[1:])
                                 for f in SPEECH_FRAMES]
        labels = model.predict(variants)
        kept.extend(labels[1:] == labels[0])
    return float(np.mean(kept))


CLEAR_CASES = [
    ("The foreign minister said restoring relations with Damascus was the only path to a lasting peace.",
     "support"),
    ("Ankara is ready to reopen its embassy in Damascus, a senior official said.", "support"),
    ("Moscow praised the Idlib ceasefire protocol as a reliable basis for calm in the northwest.", "support"),
    ("Gulf officials hailed Syria's return to the Arab League as a victory for Arab unity.", "support"),
    ("A faction commander vowed never to lay down arms under any reconciliation deal.", "reject"),
    ("Protesters in Azaz denounced the rapprochement with Damascus as a betrayal of the displaced.",
     "reject"),
    ("Damascus ruled out any summit with Ankara while Turkish troops remain in the north.", "reject"),
    ("The opposition coalition condemned the Arab embrace of Assad as a reward for mass murder.", "reject"),
    ("The delegations met for four hours at a government guesthouse on Thursday.", "neutral"),
    ("Turkey hosts several million Syrian refugees, according to official figures.", "neutral"),
    ("The Arab League foreign ministers will meet again in Cairo in early May.", "neutral"),
    ("Joint patrols on the M4 highway began in March 2020.", "neutral"),
]


def clear_cases(model) -> float:
    """Accuracy on unambiguous sentences of each label, without a target."""
    texts, expected = zip(*CLEAR_CASES, strict=True)
    return float(np.mean(model.predict(list(texts)) == np.array(expected)))


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[object], float]  # model -> pass rate
    floor: float  # the rate tests/model holds the default model to


CHECKS = (
    Check("actor_swap", "swapping actor names keeps the label", actor_swap, 0.85),
    Check("negation", "negating the main verb flips support and reject", negation, 0.2),
    Check("furniture", "page furniture around a sentence keeps the label", furniture, 0.9),
    Check("clear_cases", "unambiguous sentences get their label", clear_cases, 0.8),
    Check("reported_speech", "attributing a sentence to a speaker keeps its label", reported_speech, 0.75),
    Check("negation_lowers_the_stance", "negating the main verb lowers the stance's probability",
          negation_lowers_the_stance, 0.9),
)


def run_checks(model) -> dict[str, float]:
    return {check.name: check.run(model) for check in CHECKS}
