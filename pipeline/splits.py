"""Splits that keep every article whole: the train/test split (`prepare`) and the search's folds (`train`),
and the check that data can be split at all, made before any stage writes (`corpus`, `stance validate`).

Sentences of one article share a voice and vocabulary; splitting by sentence would put one article on
both sides and overstate accuracy on articles the model has never seen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from pipeline import LABELS
from pipeline.data import DataContractError
from pipeline.files import InputError


def article_folds(labels, articles, n_splits: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) index pairs: every article whole, label shares as even as groups allow."""
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(labels)), np.asarray(labels), np.asarray(articles)))


def articles_needed(test_size: float) -> int:
    """Articles needed to hold out `test_size` of them (one fold of round(1 / test_size))."""
    return max(2, round(1 / test_size))


def split_by_article(sentences: pd.DataFrame, test_size: float,
                     random_state: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out about `test_size` of the articles, whole, with label shares kept as far as groups allow."""
    n_splits = articles_needed(test_size)
    n_articles = sentences["doc_id"].nunique()
    if n_articles < n_splits:
        raise InputError(
            f"need at least {n_splits} articles (doc_id) to hold out {test_size:.0%} of them, "
            f"found {n_articles}"
        )
    train_idx, test_idx = article_folds(sentences["label"], sentences["doc_id"], n_splits, random_state)[0]
    return sentences.iloc[train_idx], sentences.iloc[test_idx]


def check_trainable(sentences: pd.DataFrame, test_size: float, path: str | Path) -> None:
    """What the pipeline needs beyond valid rows, checked before any stage writes anything: every label,
    and enough articles to hold out `test_size` of them whole (prepare.test_size)."""
    problems = []
    missing = [label for label in LABELS if label not in set(sentences["label"])]
    if missing:
        problems.append(f"no sentence labelled {', '.join(missing)}: a model needs examples of every label")
    needed, found = articles_needed(test_size), sentences["doc_id"].nunique()
    if found < needed:
        problems.append(f"{found} article(s) (doc_id); holding out {test_size:.0%} of the articles whole "
                        f"needs at least {needed}")
    if problems:
        raise DataContractError(path, problems)
