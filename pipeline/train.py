"""Stage `train`: fit the classifier on the training features; save featurizer + classifier as one model."""

from __future__ import annotations

import argparse
import logging

from scipy import sparse

from pipeline import model_io
from pipeline.data import read_split
from pipeline.files import InputError
from pipeline.model import assemble, build_classifier
from pipeline.params import load_params
from pipeline.stage import run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("featurizer", help="fitted featurizer (.skops)")
    parser.add_argument("train_matrix", help="train features (.npz)")
    parser.add_argument("train", help="train split CSV (for the labels)")
    parser.add_argument("model_out", help="the model that takes raw text (.skops)")
    args = parser.parse_args()
    params = load_params("train")

    features = sparse.load_npz(args.train_matrix)
    labels = read_split(args.train)["label"]
    if features.shape[0] != len(labels):
        raise InputError(
            f"{args.train_matrix} has {features.shape[0]} rows but {args.train} has {len(labels)}; "
            "re-run the featurize stage"
        )
    classifier = build_classifier(params).fit(features, labels)
    log.info("fitted %s on %d sentences", params["classifier"], features.shape[0])
    model_io.save(assemble(model_io.load(args.featurizer), classifier), args.model_out)


if __name__ == "__main__":
    run(main)
