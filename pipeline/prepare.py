"""Stage `prepare`: validate the labelled sentences and split them into train and test by article.

    python -m pipeline.prepare data/raw/sentences.csv data/prepared [--user-labels data/raw/user]

The user's own labels (`stance import`, data/raw/user/*.csv) all join the training split: the test split
stays the shipped corpus's, so the evaluation before and after an import measures the same sentences. A
user label replaces the corpus row with the same text.
"""

from __future__ import annotations

import logging

import pandas as pd

from pipeline import LABELS
from pipeline.data import COLUMNS, load_sentences, load_user_labels, relabelled, split_path
from pipeline.files import InputError, write_csv
from pipeline.params import load_params
from pipeline.splits import split_by_article
from pipeline.stage import argument_parser, run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("raw", help="labelled sentences CSV")
    parser.add_argument("out", help="folder for train.csv and test.csv")
    parser.add_argument("--user-labels", help="folder of the user's label files (*.csv), for training")
    args = parser.parse_args()
    params = load_params().prepare

    sentences = load_sentences(args.raw)
    users = load_user_labels(args.user_labels)
    train, test = split_by_article(sentences, params.test_size, params.random_state)
    replaced = relabelled(sentences, users)
    if len(users):
        log.info("%d user label(s) from %s join the training split (%d corpus sentence(s) relabelled)",
                 len(users), args.user_labels, int(replaced.sum()))
    train = pd.concat([train[~replaced[train.index]], users[list(COLUMNS)]], ignore_index=True)
    test = test[~replaced[test.index]]
    missing = [label for label in LABELS if label not in set(train["label"])]
    if missing:
        raise InputError(f"{args.raw}: no training sentence labelled {', '.join(missing)}")
    for name, split in (("train", train), ("test", test)):
        counts = split["label"].value_counts().reindex(LABELS, fill_value=0).to_dict()
        log.info("%s: %d sentences in %d articles %s", name, len(split), split["doc_id"].nunique(), counts)
        write_csv(split_path(args.out, name), split)


if __name__ == "__main__":
    run(main)
