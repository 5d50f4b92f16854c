"""The sentence splitter against a small gold set of our own hard-wrapped articles
(tests/fixtures/sentence_boundaries.yaml): precision and recall of sentence boundaries.

`pytest tests/code/test_sentence_boundaries.py -s` prints the figures.
"""

import pytest
import yaml

from pipeline.scoring import split_sentences
from tests.conftest import ROOT

GOLD = yaml.safe_load((ROOT / "tests/fixtures/sentence_boundaries.yaml").read_text(encoding="utf-8"))


def boundaries(sentences: list[str]) -> set[int]:
    """Where each sentence ends, counted in non-space characters, so spacing and line breaks do not matter."""
    ends, position = set(), 0
    for sentence in sentences:
        position += len("".join(sentence.split()))
        ends.add(position)
    return ends


def test_boundary_precision_and_recall_on_the_gold_set():
    found = right = expected = 0
    for article in GOLD:
        predicted, gold = boundaries(split_sentences(article["text"])), boundaries(article["sentences"])
        found, right, expected = found + len(predicted), right + len(predicted & gold), expected + len(gold)
    precision, recall = right / found, right / expected
    print(f"sentence boundaries: precision {precision:.3f}, recall {recall:.3f} ({expected} gold sentences)")
    assert precision >= 0.95 and recall >= 0.95


@pytest.mark.parametrize("article", GOLD, ids=lambda article: article["name"])
def test_each_gold_article_splits_as_written(article):
    assert split_sentences(article["text"]) == article["sentences"]
