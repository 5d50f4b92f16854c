"""Stage `train`: choose hyperparameters by cross-validation grouped by article, on the training split
only; refit the best candidate on the whole training split; save it as one model that takes raw text.

The test split is never read here. Every candidate's fold scores go to the search report, which the
`log` stage turns into MLflow child runs.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.model_selection import ParameterGrid

from pipeline import model_io
from pipeline.data import read_split
from pipeline.evaluate import SELECTION_METRICS, selection_score
from pipeline.files import InputError, write_json
from pipeline.model import (
    RAW_TEXT,
    TARGET_COLUMN,
    TEXT_COLUMN,
    assemble,
    build_classifier,
    build_features,
    family,
)
from pipeline.params import load_params
from pipeline.prepare import article_folds
from pipeline.stage import run

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """The training split with its precomputed feature blocks (rows aligned)."""

    frame: pd.DataFrame  # doc_id, text, label, target
    tfidf: Any  # the fitted TF-IDF featurizer
    tfidf_matrix: sparse.csr_matrix
    embeddings: np.ndarray

    def rows(self, index) -> tuple[pd.DataFrame, sparse.csr_matrix, np.ndarray]:
        return self.frame.iloc[index], self.tfidf_matrix[index], self.embeddings[index]


def candidates(params: dict[str, Any], n_targets: int) -> list[dict[str, Any]]:
    """The search grid of the chosen family; `target_aware: auto` means on for several targets."""
    name = params["family"]
    grids = params["search"]["grids"]
    if name not in grids:
        raise InputError(f"params.yaml: train.search.grids has no grid for family {name!r}")
    grid = {k: v if isinstance(v, list) else [v] for k, v in (grids[name] or {}).items()}
    if "target_aware" not in grid:
        setting = params["target_aware"]
        if setting not in ("auto", True, False):
            raise InputError(f"params.yaml: train.target_aware must be auto, true or false, got {setting!r}")
        grid["target_aware"] = [n_targets > 1 if setting == "auto" else setting]
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


def fit_candidate(data: TrainingData, index, hyperparams: dict[str, Any], params: dict[str, Any]):
    """Fit one candidate on the given training rows; returns the fitted (features, classifier)."""
    frame = data.frame.iloc[index]
    features = build_features(params["family"], hyperparams, data.tfidf, prefit=True)
    if features != RAW_TEXT:
        features.fit(frame[[TEXT_COLUMN, TARGET_COLUMN]])
    classifier = build_classifier(params["family"], hyperparams, params["random_state"])
    return features, classifier.fit(classifier_input(features, data, index), frame["label"].to_numpy())


def fold_score(data: TrainingData, fit_index, validation_index, hyperparams, params, metric) -> float:
    """The score of one candidate on one fold."""
    features, classifier = fit_candidate(data, fit_index, hyperparams, params)
    predicted = classifier.predict(classifier_input(features, data, validation_index))
    return selection_score(metric, data.frame["label"].iloc[validation_index], predicted)


def search(data: TrainingData, params: dict[str, Any]) -> dict[str, Any]:
    """Cross-validate every candidate on folds that never split an article; the best mean wins
    (ties go to the earlier candidate in grid order)."""
    settings = params["search"]
    metric = settings["metric"]
    if metric not in SELECTION_METRICS:
        raise InputError(f"params.yaml: train.search.metric must be one of {', '.join(SELECTION_METRICS)}")
    frame = data.frame
    n_articles = frame["doc_id"].nunique()
    n_folds = min(settings["cv_folds"], n_articles)
    if n_folds < 2:
        raise InputError(f"cross-validation needs at least 2 training articles, found {n_articles}")
    folds = article_folds(frame["label"], frame["doc_id"], n_folds, params["random_state"])
    grid = candidates(params, frame[TARGET_COLUMN].nunique())
    # Every (candidate, fold) fit is independent: spread them over the cores; results do not depend on n_jobs.
    scores_by_fit = Parallel(n_jobs=settings["n_jobs"])(
        delayed(fold_score)(data, fit_index, validation_index, hyperparams, params, metric)
        for hyperparams in grid for fit_index, validation_index in folds
    )
    results = []
    for i, hyperparams in enumerate(grid):
        scores = scores_by_fit[i * len(folds):(i + 1) * len(folds)]
        results.append({
            "params": hyperparams,
            "fold_scores": [round(s, 4) for s in scores],
            "mean": round(float(np.mean(scores)), 4),
            "std": round(float(np.std(scores)), 4),
        })
        log.info("%s %s: %s %.4f ± %.4f", params["family"], hyperparams, metric, np.mean(scores), np.std(scores))
    best = max(range(len(results)), key=lambda i: (results[i]["mean"], -i))
    return {"family": params["family"], "metric": metric, "cv_folds": n_folds, "best": best,
            "chosen": results[best]["params"], "candidates": results}


def train(data: TrainingData, params: dict[str, Any]):
    """(model fitted on the whole training split with the best candidate, search report)."""
    spec = family(params["family"])
    if spec.embeddings and data.embeddings.shape[1] == 0:
        raise InputError(
            f"params.yaml: train.family {params['family']} needs sentence embeddings: set "
            "featurize.embeddings.enabled: true (e.g. dvc exp run -S featurize.embeddings.enabled=true)"
        )
    report = search(data, params)
    features, classifier = fit_candidate(data, np.arange(len(data.frame)), report["chosen"], params)
    return assemble(features, classifier), report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("train", help="train split CSV")
    parser.add_argument("tfidf", help="fitted TF-IDF featurizer (.skops)")
    parser.add_argument("tfidf_matrix", help="training TF-IDF features (.npz)")
    parser.add_argument("embeddings", help="training sentence embeddings (.npy)")
    parser.add_argument("model_out", help="the model that takes raw text (.skops)")
    parser.add_argument("--search-out", required=True, help="search report (JSON)")
    args = parser.parse_args()

    frame = read_split(args.train).reset_index(drop=True)
    data = TrainingData(frame, model_io.load(args.tfidf), sparse.load_npz(args.tfidf_matrix).tocsr(),
                        np.load(args.embeddings))
    for name, rows in (("TF-IDF matrix", data.tfidf_matrix.shape[0]), ("embeddings", len(data.embeddings))):
        if rows != len(frame):
            raise InputError(f"the {name} has {rows} rows but {args.train} has {len(frame)}; "
                             "re-run the featurize stage")
    model, report = train(data, load_params("train"))
    log.info("chose %s %s (%s %.4f in %d-fold grouped CV)", report["family"], report["chosen"],
             report["metric"], report["candidates"][report["best"]]["mean"], report["cv_folds"])
    model_io.save(model, args.model_out)
    write_json(args.search_out, report)


if __name__ == "__main__":
    run(main)
