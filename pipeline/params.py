"""The one place that reads params.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.files import InputError, read_utf8

PARAMS_FILE = "params.yaml"


def load_params(section: str | None = None, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Return params.yaml as a dict, or only its `section` (what a stage declares in dvc.yaml)."""
    params = yaml.safe_load(read_utf8(path)) or {}
    if section is None:
        return params
    if section not in params:
        raise InputError(f"{path}: missing section '{section}'")
    return params[section]


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'train': {'C': 1}} -> {'train.C': 1}: the names DVC and MLflow show."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
