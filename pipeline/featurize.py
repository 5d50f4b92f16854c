"""Stage `featurize`: fit TF-IDF on the training split only; compute sentence embeddings if enabled.

Both are kept apart from `train`, so changing a classifier parameter or the search never recomputes
them. The embeddings need no fitting; they are stored as an empty (n x 0) array when disabled.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np
from scipy import sparse

from pipeline import model_io
from pipeline.data import read_split
from pipeline.files import atomic_path
from pipeline.model import SentenceEmbedder, build_tfidf
from pipeline.params import load_params
from pipeline.stage import run

log = logging.getLogger(__name__)


def featurize(texts, params: dict[str, Any]):
    """(fitted TF-IDF featurizer, TF-IDF matrix, embeddings) for the training texts."""
    tfidf = build_tfidf(params)
    matrix = tfidf.fit_transform(texts)
    if params["embeddings"]["enabled"]:
        embeddings = SentenceEmbedder().transform(list(texts))
    else:
        embeddings = np.zeros((len(texts), 0), dtype=np.float32)
    return tfidf, matrix, embeddings


def save_matrix(matrix, path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:  # a handle, so numpy does not append ".npz" to the name
            sparse.save_npz(handle, matrix.tocsr())


def save_array(array: np.ndarray, path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("train", help="train split CSV")
    parser.add_argument("tfidf_out", help="fitted TF-IDF featurizer (.skops)")
    parser.add_argument("tfidf_matrix_out", help="training TF-IDF features (.npz)")
    parser.add_argument("embeddings_out", help="training sentence embeddings (.npy)")
    args = parser.parse_args()

    texts = read_split(args.train)["text"].tolist()
    tfidf, matrix, embeddings = featurize(texts, load_params("featurize"))
    log.info("%d TF-IDF features, %d embedding dimensions, %d training sentences",
             matrix.shape[1], embeddings.shape[1], matrix.shape[0])
    model_io.save(tfidf, args.tfidf_out)
    save_matrix(matrix, args.tfidf_matrix_out)
    save_array(embeddings, args.embeddings_out)


if __name__ == "__main__":
    run(main)
