"""Behaviour checks in the spirit of CheckList (Ribeiro et al., 2020), reported as pass rates.

Each check perturbs sentences written for it (none is in the corpus) and counts how often the model
behaves as a stance classifier should:
- actor_swap: swapping who speaks keeps the label (invariance);
- negation: negating the main verb flips support and reject (directional);
- furniture: page furniture glued around a sentence, as a careless sentence splitter leaves it, does
  not change the label (invariance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.model import TARGET_COLUMN, TEXT_COLUMN

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
    return float(np.mean([label == FLIPPED[pair[2]] for label, pair in zip(labels, NEGATION_PAIRS)]))


def furniture(model) -> float:
    """Share of furniture-wrapped sentences that keep the label of the bare sentence."""
    kept = []
    for sentence, target in FURNITURE_SENTENCES:
        variants = [sentence] + [wrapper.format(s=sentence) for wrapper in FURNITURE]
        labels = _predict(model, variants, [target] * len(variants))
        kept.extend(labels[1:] == labels[0])
    return float(np.mean(kept))


CHECKS = {"actor_swap": actor_swap, "negation": negation, "furniture": furniture}


def run_checks(model) -> dict[str, float]:
    return {name: check(model) for name, check in CHECKS.items()}
