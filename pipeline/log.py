"""Stage `log`: record this pipeline run in MLflow (one run per pipeline run that produced a new model or
a new evaluation) and write what names it.

    python -m pipeline.log data/raw/sentences.csv data/prepared models reports/eval reports/mlflow_run.json
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline import model_io
from pipeline.data import read_split, user_rows
from pipeline.files import read_json, write_json
from pipeline.models.families import load_model
from pipeline.params import load_params
from pipeline.stage import argument_parser, run
from pipeline.tracking import REGISTERED_MODEL, record_run, talking_to_mlflow

logger = logging.getLogger(__name__)


def evaluation_metrics(folder: Path) -> dict:
    """Every JSON file of the evaluation folder is a metrics file: metrics.json's names as they are, the
    others' under the file's name (per_class.reject.f1, ...)."""
    metrics = {}
    for path in sorted(folder.glob("*.json")):
        values = read_json(path)
        metrics.update(values if path.stem == "metrics" else {path.stem: values})
    return metrics


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("raw", help="the labelled data (its DVC hash is tagged)")
    parser.add_argument("prepared", help="folder with the train and test splits")
    parser.add_argument("models", help="folder with the model and its search report")
    parser.add_argument("evaluation", help="the evaluate stage's folder")
    parser.add_argument("out", help="JSON naming the MLflow run and model version")
    args = parser.parse_args()

    params = load_params()
    models, evaluation = Path(args.models), Path(args.evaluation)
    search = read_json(models / model_io.SEARCH_REPORT_FILE)
    chosen = search["candidates"][search["best"]]
    model_file = models / model_io.MODEL_FILE
    train, test = read_split(args.prepared, "train"), read_split(args.prepared, "test")
    # How much of the training data is the user's own labelling (stance import), beside its size.
    data = {"data.train_sentences": len(train), "data.user_labels": int(user_rows(train).sum())}
    metrics = {**evaluation_metrics(evaluation), f"cv_{search['metric']}": chosen["mean"], **data}
    with talking_to_mlflow("cannot record the run"):
        record = record_run(params.mlflow.experiment_name, params.model_dump(), search, metrics,
                            load_model(model_file), model_file, train, test, evaluation, args.raw)
    write_json(args.out, record)
    logger.info("MLflow run %s (%s), %s version %s", record["run_id"], record["run_name"], REGISTERED_MODEL,
                record["model_version"])


if __name__ == "__main__":
    run(main)
