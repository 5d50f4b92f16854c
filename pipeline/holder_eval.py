"""Holder precision, recall and F1 on the gold set (tests/fixtures/holders_gold.yaml).

A sentence's holder is right when its canonical actor is the gold one (case aside). Precision is over the
sentences the rules give to an actor other than the article's voice, recall over the sentences whose gold
holder is such an actor; accuracy counts every sentence, the article's voice included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.actors import Dictionary
from pipeline.holders import find_holders

GOLD = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "holders_gold.yaml"


@dataclass(frozen=True)
class Scored:
    article: str
    text: str
    gold: str
    predicted: str
    voice_gold: bool
    voice_predicted: bool

    @property
    def right(self) -> bool:
        return self.gold.casefold() == self.predicted.casefold()


@dataclass(frozen=True)
class Scores:
    sentences: int
    attributed: int  # gold holder is an actor, not the article's voice
    precision: float
    recall: float
    f1: float
    accuracy: float


def load_gold(path: Path = GOLD) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def score_articles(articles: list[dict], dictionary: Dictionary) -> list[Scored]:
    rows = []
    for article in articles:
        sentences = article["sentences"]
        holders = find_holders([s["t"] for s in sentences], article["source"], dictionary)
        for sentence, holder in zip(sentences, holders, strict=True):
            rows.append(Scored(article["id"], sentence["t"], sentence["h"], holder.actor,
                               sentence["h"] == article["source"], holder.how == "article voice"))
    return rows


def summarize(rows: list[Scored]) -> Scores:
    predicted = [r for r in rows if not r.voice_predicted]
    gold = [r for r in rows if not r.voice_gold]
    hits = sum(r.right for r in predicted if not r.voice_gold)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(len(rows), len(gold), precision, recall, f1, sum(r.right for r in rows) / len(rows))
