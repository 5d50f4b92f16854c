"""Stage `featurize`: fit the TF-IDF body on the training split only; compute sentence embeddings if enabled.

    python -m pipeline.featurize data/prepared data/features

Both are kept apart from `train`, so changing a classifier parameter or the search never recomputes
them. The embeddings learn nothing from the data; they are stored as an empty (n x 0) array when disabled.
The embedder that computed them is saved too, and is the one the trained model carries, so training and
scoring embeddings come from the same encoder.
"""

from __future__ import annotations

import logging

import numpy as np

from pipeline import model_io
from pipeline.data import read_split
from pipeline.models.minilm import SentenceEmbedder
from pipeline.models.tfidf import build_tfidf
from pipeline.params import FeaturizeParams, load_params
from pipeline.stage import argument_parser, run

log = logging.getLogger(__name__)


def featurize(texts, params: FeaturizeParams):
    """(fitted TF-IDF body, TF-IDF matrix, embeddings, fitted embedder or None) for the training texts."""
    tfidf = build_tfidf(params.tfidf)
    matrix = tfidf.fit_transform(texts)
    if not params.embeddings.enabled:
        return tfidf, matrix, np.zeros((len(texts), 0), dtype=np.float32), None
    embedder = SentenceEmbedder(**params.embeddings.encoder()).fit(list(texts))
    return tfidf, matrix, embedder.transform(list(texts)), embedder


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("prepared", help="folder with the train split (the prepare stage's output)")
    parser.add_argument("out", help="folder for the fitted TF-IDF body and the training feature blocks")
    args = parser.parse_args()

    texts = read_split(args.prepared, "train")["text"].tolist()
    tfidf, matrix, embeddings, embedder = featurize(texts, load_params().featurize)
    log.info("%d TF-IDF features, %d embedding dimensions, %d training sentences",
             matrix.shape[1], embeddings.shape[1], matrix.shape[0])
    model_io.save_features(args.out, tfidf, matrix, embeddings, embedder)


if __name__ == "__main__":
    run(main)
