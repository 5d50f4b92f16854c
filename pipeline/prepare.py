"""Stage `prepare`: validate the labelled sentences and split them into train and test by article."""

from __future__ import annotations

import argparse
import logging

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from pipeline import LABELS
from pipeline.data import load_sentences
from pipeline.files import InputError, write_csv
from pipeline.params import load_params
from pipeline.stage import run

log = logging.getLogger(__name__)


def article_folds(labels, articles, n_splits: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) index pairs that keep every article whole and label shares as even as groups allow."""
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(labels)), np.asarray(labels), np.asarray(articles)))


def split_by_article(
    sentences: pd.DataFrame, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out about `test_size` of the articles, whole, with label shares kept as far as groups allow.

    Splitting by sentence would put sentences of one article on both sides and overstate accuracy on
    articles the model has never seen.
    """
    if not 0 < test_size < 1:
        raise InputError(f"params.yaml: prepare.test_size must be between 0 and 1, got {test_size}")
    n_splits = max(2, round(1 / test_size))
    n_articles = sentences["doc_id"].nunique()
    if n_articles < n_splits:
        raise InputError(
            f"need at least {n_splits} articles (doc_id) to hold out {test_size:.0%} of them, found {n_articles}"
        )
    train_idx, test_idx = article_folds(sentences["label"], sentences["doc_id"], n_splits, random_state)[0]
    return sentences.iloc[train_idx], sentences.iloc[test_idx]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", help="labelled sentences CSV")
    parser.add_argument("train_out")
    parser.add_argument("test_out")
    args = parser.parse_args()
    params = load_params("prepare")

    sentences = load_sentences(args.raw)
    train, test = split_by_article(sentences, params["test_size"], params["random_state"])
    missing = [label for label in LABELS if label not in set(train["label"])]
    if missing:
        raise InputError(f"{args.raw}: no training sentence labelled {', '.join(missing)}")
    for name, split in (("train", train), ("test", test)):
        counts = split["label"].value_counts().reindex(LABELS, fill_value=0).to_dict()
        log.info("%s: %d sentences in %d articles %s", name, len(split), split["doc_id"].nunique(), counts)
    write_csv(args.train_out, train)
    write_csv(args.test_out, test)


if __name__ == "__main__":
    run(main)
