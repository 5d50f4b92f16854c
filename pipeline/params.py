"""params.yaml as typed, validated objects: the one module that knows the file's layout.

Each stage reads its own section (`load_params().train`), the one it declares under `params:` in dvc.yaml.
Validation is pydantic's: it collects every bad value in one pass with its location, which we report as the
dotted name a user passes to `dvc exp run -S`, and it refuses unknown keys, so a typo is an error rather
than a silently ignored setting. Dataclasses would need all of that written by hand.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline import EMBEDDING_PRECISIONS, ENCODER_LAYERS, ENCODER_RUN_SIZES, SELECTION_METRICS
from pipeline.files import InputError, read_utf8

PARAMS_FILE = "params.yaml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrepareParams(Section):
    test_size: float = Field(gt=0, lt=1, description="share of articles held out whole for the test split")
    random_state: int


class TfidfParams(Section):
    lowercase: bool
    sublinear_tf: bool
    word_ngram_max: int = Field(ge=1)
    word_min_df: int = Field(ge=1)
    char_ngram_min: int = Field(ge=1)
    char_ngram_max: int = Field(ge=1)
    char_min_df: int = Field(ge=1)
    max_features: int | None = Field(ge=1)

    @model_validator(mode="after")
    def _char_range(self):
        if self.char_ngram_max < self.char_ngram_min:
            raise ValueError(f"char_ngram_max ({self.char_ngram_max}) is below "
                             f"char_ngram_min ({self.char_ngram_min})")
        return self


class EmbeddingsParams(Section):
    enabled: bool
    precision: Literal[EMBEDDING_PRECISIONS]
    layers: int = Field(ge=1, le=ENCODER_LAYERS)

    def encoder(self) -> dict[str, Any]:
        """SentenceEmbedder's arguments: how its encoder computes."""
        return {"precision": self.precision, "layers": self.layers,
                "batch_size": ENCODER_RUN_SIZES[self.precision]}


class FeaturizeParams(Section):
    tfidf: TfidfParams
    embeddings: EmbeddingsParams


class SearchParams(Section):
    metric: Literal[SELECTION_METRICS]
    cv_folds: int = Field(ge=2)
    n_jobs: int
    # family -> hyperparameter -> the values searched (a single value is a one-value list)
    grids: dict[str, dict[str, list[Any]]]

    @field_validator("grids", mode="before")
    @classmethod
    def _values_as_lists(cls, grids):
        if not isinstance(grids, Mapping):
            return grids
        def as_lists(grid):
            if grid is None:
                return {}
            if not isinstance(grid, Mapping):
                return grid  # pydantic reports it
            return {name: value if isinstance(value, list) else [value] for name, value in grid.items()}

        return {family: as_lists(grid) for family, grid in grids.items()}


class TrainParams(Section):
    family: str
    target_aware: bool | Literal["auto"]
    random_state: int
    search: SearchParams

    @property
    def grid(self) -> dict[str, list[Any]]:
        """The search grid of the chosen family."""
        return self.search.grids[self.family]


class EvaluateParams(Section):
    bootstrap_resamples: int = Field(ge=100, description="resamples of test articles for the 95% intervals")
    calibration_bins: int = Field(ge=2)
    random_state: int
    real_news: str = Field(min_length=1, description="folder of realnews-dev; skipped when absent")


class MlflowParams(Section):
    experiment_name: str = Field(min_length=1)


class Params(Section):
    prepare: PrepareParams
    featurize: FeaturizeParams
    train: TrainParams
    evaluate: EvaluateParams
    mlflow: MlflowParams


def _dotted(location: tuple) -> str:
    return ".".join(str(part) for part in location)


def _describe(error: dict) -> str:
    where = _dotted(error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown setting (a typo?)"
    if error["type"] == "missing":
        return f"{where}: missing"
    shown = "" if isinstance(error["input"], Mapping) else f" (got {error['input']!r})"
    return f"{where}: {error['msg']}{shown}"


def _family_problems(train: TrainParams, families: Registry) -> list[str]:
    """Family names and grid keys checked against the model registry (its names and their hyperparameters)."""
    problems = []
    known = ", ".join(families)
    if train.family not in families:
        problems.append(f"train.family: unknown family {train.family!r}; expected one of {known}")
    elif train.family not in train.search.grids:
        problems.append(f"train.search.grids: no grid for the chosen family {train.family!r}")
    for family, grid in train.search.grids.items():
        if family not in families:
            problems.append(f"train.search.grids.{family}: unknown family; expected one of {known}")
            continue
        for name in grid:
            if name not in families[family]:
                problems.append(f"train.search.grids.{family}.{name}: not a hyperparameter of {family} "
                                f"(expected one of {', '.join(sorted(families[family]))})")
    return problems


Registry = Mapping[str, Collection[str]]  # family name -> its hyperparameters


def _error(source: str, problems: list[str]) -> InputError:
    return InputError(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems))


def validate(raw: Any, source: str = PARAMS_FILE, families: Registry | None = None) -> Params:
    """Params from a parsed params.yaml; every problem at once in one InputError naming `source`.

    `families` (family name -> its hyperparameters, from the model registry) also checks the family and
    its grid; stages that build no model leave it out, so they do not depend on the model code.
    """
    try:
        params = Params.model_validate(raw)
    except ValidationError as err:
        problems = [_describe(error) for error in err.errors()]
        raise _error(source, problems) from None
    problems = _family_problems(params.train, families) if families is not None else []
    if problems:
        raise _error(source, problems)
    return params


def load_params(path: str | Path = PARAMS_FILE, families: Registry | None = None) -> Params:
    try:
        raw = yaml.safe_load(read_utf8(path))
    except yaml.YAMLError as err:
        raise InputError(f"{path}: not valid YAML ({err})") from None
    return validate(raw, str(path), families)


def override(params: Params, changes: Mapping[str, Any], families: Registry | None = None) -> Params:
    """A copy with dotted names set, as `dvc exp run -S train.family=nbsvm` would, validated the same way."""
    raw = params.model_dump()
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return validate(raw, "overrides " + ", ".join(changes), families)


def flatten(params: Mapping[str, Any]) -> dict[str, Any]:
    """{'train': {'C': 1}} -> {'train.C': 1}: the names DVC and MLflow show."""
    return pd.json_normalize(params, sep=".").to_dict("records")[0]
