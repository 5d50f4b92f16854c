"""Saving and loading fitted models and featurizers as skops files (no arbitrary code on load)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import skops.io as sio

from pipeline.files import InputError, atomic_path

# Types outside skops' built-in allowlist that our own models contain. Anything else in a file is
# refused, so a tampered or foreign file cannot run code on load.
TRUSTED_TYPES = (
    "pipeline.model.FineTunedMiniLM",
    "pipeline.model.NBSVMClassifier",
    "pipeline.model.SentenceEmbedder",
    "pipeline.model.StanceFeatures",
    # scikit-learn's own calibration internals and folds (tfidf-linear-svm), not on skops' default list
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)

_OBJECT_ID = re.compile(r'("__id__": |"file": ")(\d+)')
# scikit-learn's text vectorizers cache id(stop_words) here; a stale value only costs a re-check.
_STOP_WORDS_ID = re.compile(r'("_stop_words_id": \{[^}]*?"content": ")\d+')
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _reproducible(archive: bytes) -> bytes:
    """The same model gives the same bytes, so DVC hashes and `dvc status` stay stable.

    skops names nodes and array files by Python object id and stamps the time; renumber the ids by
    first appearance, fix the time, and compress the (large, repetitive) schema.
    """
    source = zipfile.ZipFile(io.BytesIO(archive))
    schema = _STOP_WORDS_ID.sub(r"\g<1>0", source.read("schema.json").decode("utf-8"))
    numbers: dict[str, str] = {}
    schema = _OBJECT_ID.sub(lambda m: m[1] + numbers.setdefault(m[2], str(len(numbers))), schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        entries = {"schema.json": schema.encode("utf-8")}
        for name in source.namelist():
            if name != "schema.json":
                stem, suffix = name.split(".", 1)
                entries[f"{numbers[stem]}.{suffix}"] = source.read(name)
        for name in sorted(entries):
            target.writestr(zipfile.ZipInfo(name, _FIXED_TIME), entries[name], zipfile.ZIP_DEFLATED)
    return out.getvalue()


def save(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(_reproducible(sio.dumps(obj)))


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
