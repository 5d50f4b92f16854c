"""Stage `featurize`: fit the featurizer on the training split only and transform both splits."""

from __future__ import annotations

import argparse
import logging

from scipy import sparse

from pipeline import model_io
from pipeline.data import read_split
from pipeline.files import atomic_path
from pipeline.model import build_featurizer
from pipeline.params import load_params
from pipeline.stage import run

log = logging.getLogger(__name__)


def save_matrix(matrix, path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:  # a handle, so numpy does not append ".npz" to the name
            sparse.save_npz(handle, matrix.tocsr())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("train", help="train split CSV")
    parser.add_argument("test", help="test split CSV")
    parser.add_argument("featurizer_out", help="fitted featurizer (.skops)")
    parser.add_argument("train_matrix_out", help="train features (.npz)")
    parser.add_argument("test_matrix_out", help="test features (.npz)")
    args = parser.parse_args()

    featurizer = build_featurizer(load_params("featurize"))
    train_matrix = featurizer.fit_transform(read_split(args.train)["text"])
    test_matrix = featurizer.transform(read_split(args.test)["text"])
    log.info("%d features from %d training sentences", train_matrix.shape[1], train_matrix.shape[0])
    model_io.save(featurizer, args.featurizer_out)
    save_matrix(train_matrix, args.train_matrix_out)
    save_matrix(test_matrix, args.test_matrix_out)


if __name__ == "__main__":
    run(main)
