"""Stage `prepare`: validate the labelled sentences and split them into train and test by article.

    python -m pipeline.prepare data/raw/sentences.csv data/prepared
"""

from __future__ import annotations

import logging

from pipeline import LABELS
from pipeline.data import load_sentences, split_path
from pipeline.files import InputError, write_csv
from pipeline.params import load_params
from pipeline.splits import split_by_article
from pipeline.stage import argument_parser, run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("raw", help="labelled sentences CSV")
    parser.add_argument("out", help="folder for train.csv and test.csv")
    args = parser.parse_args()
    params = load_params().prepare

    sentences = load_sentences(args.raw)
    train, test = split_by_article(sentences, params.test_size, params.random_state)
    missing = [label for label in LABELS if label not in set(train["label"])]
    if missing:
        raise InputError(f"{args.raw}: no training sentence labelled {', '.join(missing)}")
    for name, split in (("train", train), ("test", test)):
        counts = split["label"].value_counts().reindex(LABELS, fill_value=0).to_dict()
        log.info("%s: %d sentences in %d articles %s", name, len(split), split["doc_id"].nunique(), counts)
        write_csv(split_path(args.out, name), split)


if __name__ == "__main__":
    run(main)
