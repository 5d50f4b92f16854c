"""Which unlabelled sentences are worth labelling (`stance sample`), and the same choice for the
active-learning simulation (bench/active_learning.py).

Strategies:
    uncertainty          the sentences the model is least sure of (margin between its top two labels, or the
                         entropy of its probabilities);
    diverse-uncertainty  the most uncertain POOL_FACTOR x n sentences, clustered into n groups on the
                         model's own sentence representation; the most uncertain sentence of each group, so a
                         batch is not n variants of one quote;
    random               for comparison.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

from pipeline.data import normalize_text
from pipeline.scoring import Document
from pipeline.tables import TABLE_SUFFIXES

STRATEGIES = ("diverse-uncertainty", "uncertainty", "random")
MEASURES = ("margin", "entropy")
POOL_FACTOR = 5  # diverse-uncertainty clusters the most uncertain 5 x n sentences
SVD_COMPONENTS = 100  # TF-IDF models: clusters on a dense projection of the model's own TF-IDF vectors
CONTEXT_COLUMNS = ["article", "headline", "previous", "next"]


def uncertainty(proba: np.ndarray, measure: str = "margin") -> np.ndarray:
    """Per row, higher = less sure: 1 - (top probability - second), or the entropy of the probabilities."""
    if measure == "entropy":
        clipped = np.clip(proba, 1e-12, 1.0)
        return -(clipped * np.log(clipped)).sum(axis=1)
    top_two = np.sort(proba, axis=1)[:, -2:]
    return 1.0 - (top_two[:, 1] - top_two[:, 0])


def most_uncertain(scores: np.ndarray, k: int) -> np.ndarray:
    """The k highest scores, highest first; ties keep the input order, so the choice is deterministic."""
    return np.argsort(-scores, kind="stable")[:k]


def choose(proba: np.ndarray, n: int, strategy: str, random_state: int, measure: str = "margin",
           features: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Row indices of the n sentences to label, most useful first. `features(rows)` gives the vectors that
    diverse-uncertainty clusters (only the pool's rows are asked for: embedding them costs time)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    n = min(n, len(proba))
    if strategy == "random":
        return np.random.default_rng(random_state).choice(len(proba), size=n, replace=False)
    scores = uncertainty(proba, measure)
    if strategy == "uncertainty":
        return most_uncertain(scores, n)
    pool = most_uncertain(scores, POOL_FACTOR * n)
    if len(pool) <= n:
        return pool
    vectors = normalize(np.asarray(features(pool), dtype=np.float64))  # unit length: k-means on cosine
    clusters = KMeans(n_clusters=n, n_init=3, random_state=random_state).fit_predict(vectors)
    # The pool is ordered most uncertain first, so each cluster's first row is its most uncertain.
    _, first = np.unique(clusters, return_index=True)
    picked = pool[np.sort(first)]
    return picked[most_uncertain(scores[picked], len(picked))]


def cluster_features(model, texts: list[str], random_state: int) -> np.ndarray:
    """The model's own sentence representation: MiniLM embeddings for the MiniLM families, a truncated SVD of
    its TF-IDF vectors otherwise."""
    from pipeline.models.families import RAW_TEXT

    body = model.named_steps["features"]
    if body == RAW_TEXT or body.embedder is not None:
        from pipeline.models.minilm import SentenceEmbedder

        return (SentenceEmbedder() if body == RAW_TEXT else body.embedder).transform(texts)
    tfidf = body.tfidf.transform(texts)
    components = min(SVD_COMPONENTS, tfidf.shape[1] - 1, len(texts) - 1)
    if components < 1:
        return tfidf.toarray()
    return TruncatedSVD(n_components=components, random_state=random_state).fit_transform(tfidf)


def is_article(document: Document) -> bool:
    return not document.name.lower().endswith(TABLE_SUFFIXES)


def context(document: Document) -> pd.DataFrame:
    """Per sentence: its article, the article's headline, the previous and the next sentence.

    An article (.txt, stdin) is one article whose headline is its first line. In a sentence file, rows with
    the same `doc_id` column are one article, in file order (the whole file, without that column), with the
    headline from a `headline` column when there is one.
    """
    n = len(document.sentences)
    ids = document.columns.get("doc_id") or [None] * n
    headlines = document.columns.get("headline") or [None] * n
    articles = [f"{document.name}#{i}" if i not in (None, "") else document.name for i in ids]
    groups: dict[str, list[int]] = {}  # article -> its rows, in file order (one pass: tables can be long)
    for k, article in enumerate(articles):
        groups.setdefault(article, []).append(k)
    rows = []
    for article, members in groups.items():
        first = document.sentences[members[0]] if is_article(document) else ""
        for position, k in enumerate(members):
            rows.append({
                "article": article,
                "headline": str(headlines[k] or "") or first,
                "previous": document.sentences[members[position - 1]] if position > 0 else "",
                "next": document.sentences[members[position + 1]] if position + 1 < len(members) else "",
                "row": k,
            })
    ordered = pd.DataFrame(rows).sort_values("row")
    return ordered[CONTEXT_COLUMNS].reset_index(drop=True)


def candidates(documents: list[Document], scored: pd.DataFrame, labelled_texts: set[str]) -> pd.DataFrame:
    """The scored sentences with their context, less those already labelled (same normalised text) and
    less repeats: page furniture ("Read also", a byline, a share bar) recurs across pages, and is worth
    labelling once at most."""
    frame = pd.concat([scored.reset_index(drop=True),
                       pd.concat([context(d) for d in documents], ignore_index=True)], axis=1)
    keys = frame["text"].map(normalize_text)
    keep = ~keys.isin(labelled_texts) & ~keys.duplicated()
    return frame[keep.to_numpy()].reset_index(drop=True)
