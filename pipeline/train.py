"""Stage `train`: choose hyperparameters by cross-validation grouped by article, on the training split
only; refit the best candidate on the whole training split; save it as one model that takes raw text.

    python -m pipeline.train data/prepared data/features models

The test split is never read here. Every candidate's fold scores go to the search report (models/search.json),
which the `log` stage turns into MLflow child runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.model_selection import ParameterGrid
from sklearn.utils._param_validation import InvalidParameterError

from pipeline import model_io
from pipeline.data import read_split
from pipeline.files import InputError, write_json
from pipeline.metrics import selection_score
from pipeline.models.families import (
    HYPERPARAMETERS,
    RAW_TEXT,
    TRUSTED_TYPES,
    assemble,
    build_classifier,
    build_features,
    family,
)
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.params import TrainParams, load_params
from pipeline.splits import article_folds
from pipeline.stage import argument_parser, run

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """The training split with its precomputed feature blocks (rows aligned)."""

    frame: pd.DataFrame  # doc_id, text, label, target
    tfidf: Any  # the fitted TF-IDF body
    tfidf_matrix: sparse.csr_matrix
    embeddings: np.ndarray
    embedder: Any = None  # the fitted SentenceEmbedder that computed `embeddings`; None when disabled

    def rows(self, index) -> tuple[pd.DataFrame, sparse.csr_matrix, np.ndarray]:
        return self.frame.iloc[index], self.tfidf_matrix[index], self.embeddings[index]


def candidates(params: TrainParams, n_targets: int) -> list[dict[str, Any]]:
    """The search grid of the chosen family; `target_aware: auto` means on for several targets."""
    grid = dict(params.grid)
    if "target_aware" not in grid:
        grid["target_aware"] = [n_targets > 1 if params.target_aware == "auto" else params.target_aware]
    return list(ParameterGrid(grid))


def feature_matrix(features, data: TrainingData, index) -> sparse.csr_matrix:
    """The rows' feature matrix from the precomputed blocks, laid out as the saved model will."""
    frame, tfidf_block, embedding_block = data.rows(index)
    return features.combine(
        tfidf_block if features.tfidf is not None else None,
        embedding_block if features.embedder is not None else None,
        frame[TARGET_COLUMN].to_numpy(),
    )


def classifier_input(features, data: TrainingData, index):
    """What the classifier reads for the rows: their raw text and target, or their feature matrix."""
    if features == RAW_TEXT:
        return data.frame.iloc[index][[TEXT_COLUMN, TARGET_COLUMN]]
    return feature_matrix(features, data, index)


def fit_candidate(data: TrainingData, index, hyperparams: dict[str, Any], params: TrainParams):
    """Fit one candidate on the given training rows; returns the fitted (features, classifier)."""
    frame = data.frame.iloc[index]
    features = build_features(params.family, hyperparams, data.tfidf, data.embedder, prefit=True)
    if features != RAW_TEXT:
        features.fit(frame[[TEXT_COLUMN, TARGET_COLUMN]])
    classifier = build_classifier(params.family, hyperparams, params.random_state)
    return features, classifier.fit(classifier_input(features, data, index), frame["label"].to_numpy())


def fold_score(data: TrainingData, fit_index, validation_index, hyperparams, params: TrainParams) -> float:
    """The score of one candidate on one fold."""
    features, classifier = fit_candidate(data, fit_index, hyperparams, params)
    predicted = classifier.predict(classifier_input(features, data, validation_index))
    return selection_score(params.search.metric, data.frame["label"].iloc[validation_index], predicted)


def search(data: TrainingData, params: TrainParams) -> dict[str, Any]:
    """Cross-validate every candidate on folds that never split an article; the best mean wins
    (ties go to the earlier candidate in grid order)."""
    frame = data.frame
    n_articles = frame["doc_id"].nunique()
    n_folds = min(params.search.cv_folds, n_articles)
    if n_folds < 2:
        raise InputError(f"cross-validation needs at least 2 training articles, found {n_articles}")
    folds = article_folds(frame["label"], frame["doc_id"], n_folds, params.random_state)
    grid = candidates(params, frame[TARGET_COLUMN].nunique())
    # Every (candidate, fold) fit is independent: spread them over the cores; results do not depend on n_jobs.
    try:
        scores_by_fit = Parallel(n_jobs=params.search.n_jobs)(
            delayed(fold_score)(data, fit_index, validation_index, hyperparams, params)
            for hyperparams in grid for fit_index, validation_index in folds
        )
    except InvalidParameterError as err:  # scikit-learn validates a value when it fits
        raise InputError(f"params.yaml: train.search.grids.{params.family}: {err}") from None
    results = []
    for i, hyperparams in enumerate(grid):
        scores = scores_by_fit[i * len(folds):(i + 1) * len(folds)]
        results.append({
            "params": hyperparams,
            "fold_scores": [round(s, 4) for s in scores],
            "mean": round(float(np.mean(scores)), 4),
            "std": round(float(np.std(scores)), 4),
        })
        log.info("%s %s: %s %.4f ± %.4f", params.family, hyperparams, params.search.metric, np.mean(scores),
                 np.std(scores))
    best = max(range(len(results)), key=lambda i: (results[i]["mean"], -i))
    return {"family": params.family, "metric": params.search.metric, "cv_folds": n_folds, "best": best,
            "chosen": results[best]["params"], "candidates": results}


def train(data: TrainingData, params: TrainParams):
    """(model fitted on the whole training split with the best candidate, search report)."""
    if family(params.family).body.embeddings and data.embedder is None:
        raise InputError(
            f"params.yaml: train.family {params.family} needs sentence embeddings: set "
            "featurize.embeddings.enabled: true (e.g. dvc exp run -S featurize.embeddings.enabled=true)"
        )
    report = search(data, params)
    features, classifier = fit_candidate(data, np.arange(len(data.frame)), report["chosen"], params)
    return assemble(features, classifier), report


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("prepared", help="folder with the train split (the prepare stage's output)")
    parser.add_argument("features", help="folder with the TF-IDF body and feature blocks (featurize's)")
    parser.add_argument("out", help="folder for the model and the search report")
    args = parser.parse_args()
    params = load_params(families=HYPERPARAMETERS).train

    frame = read_split(args.prepared, "train").reset_index(drop=True)
    data = TrainingData(frame, *model_io.load_features(args.features, TRUSTED_TYPES))
    for name, rows in (("TF-IDF matrix", data.tfidf_matrix.shape[0]), ("embeddings", len(data.embeddings))):
        if rows != len(frame):
            raise InputError(f"the {name} in {args.features} has {rows} rows but the train split has "
                             f"{len(frame)}; re-run the featurize stage")
    model, report = train(data, params)
    log.info("chose %s %s (%s %.4f in %d-fold grouped CV)", report["family"], report["chosen"],
             report["metric"], report["candidates"][report["best"]]["mean"], report["cv_folds"])
    model_io.save(model, Path(args.out) / model_io.MODEL_FILE)
    write_json(Path(args.out) / model_io.SEARCH_REPORT_FILE, report)


if __name__ == "__main__":
    run(main)
