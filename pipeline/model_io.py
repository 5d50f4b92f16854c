"""Saving and loading fitted models and featurizers as skops files (no arbitrary code on load)."""

from __future__ import annotations

from pathlib import Path

import skops.io as sio

from pipeline.files import InputError, atomic_path

# Types outside skops' built-in allowlist that our own models contain. Anything else in a file is
# refused, so a tampered or foreign file cannot run code on load.
TRUSTED_TYPES = ("pipeline.model.TextColumn",)


def save(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        sio.dump(obj, tmp)


def load(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found (run `dvc repro` to train one)")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as err:  # skops raises several types for a file that is not a skops archive
        raise InputError(f"{path}: not a readable skops model file ({err})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise InputError(f"{path}: refusing to load untrusted types: {', '.join(refused)}")
    return sio.load(path, trusted=list(untrusted))
