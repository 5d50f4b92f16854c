"""Saving and loading fitted models and featurizers as skops files: no arbitrary code runs on load, and the
same object always gives the same bytes.

Which types a file may hold is the caller's to say (the model registry knows its own classes), so this
module depends on no model code.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
import skops.io as sio
from scipy import sparse
from skops.io.exceptions import UntrustedTypesFoundException

from pipeline.files import InputError, atomic_path

# What the `featurize` and `train` stages write into their output folders.
TFIDF_FILE, TFIDF_MATRIX_FILE, EMBEDDINGS_FILE = "tfidf.skops", "train_tfidf.npz", "train_embeddings.npy"
MODEL_FILE, SEARCH_REPORT_FILE = "stance_model.skops", "search.json"

# skops names array files by object id and bytes files by a random UUID
_OBJECT_ID = re.compile(r'("__id__": |"file": ")([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|\d+)')
# scikit-learn's text vectorizers cache id(stop_words) here; a stale value only costs a re-check.
_STOP_WORDS_ID = re.compile(r'("_stop_words_id": \{[^}]*?"content": ")\d+')
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _reproducible(archive: bytes) -> bytes:
    """The same model gives the same bytes, so DVC hashes and `dvc status` stay stable.

    skops names nodes and files by Python object id or a random UUID and stamps the time; renumber the
    names by first appearance, fix the time, and compress the (large, repetitive) schema and arrays; raw
    bytes (an encoder's weights, which hardly compress) are stored as they are, so they load fast.
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
            method = zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED
            target.writestr(zipfile.ZipInfo(name, _FIXED_TIME), entries[name], method)
    return out.getvalue()


def save(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(_reproducible(sio.dumps(obj)))


def _renamed(archive: bytes, moved: Mapping[str, str]) -> bytes:
    """The archive with classes that moved module recorded at their new place (skops imports by path)."""
    def rename(node):
        if isinstance(node, dict):
            old = f"{node.get('__module__')}.{node.get('__class__')}"
            if old in moved:
                node["__module__"], node["__class__"] = moved[old].rsplit(".", 1)
            for value in node.values():
                rename(value)
        elif isinstance(node, list):
            for value in node:
                rename(value)

    source = zipfile.ZipFile(io.BytesIO(archive))
    text = source.read("schema.json").decode("utf-8")
    if not any(f'"{old.rsplit(".", 1)[0]}"' in text for old in moved):
        return archive  # nothing moved: no need to rewrite a large archive
    schema = json.loads(text)
    rename(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = json.dumps(schema) if info.filename == "schema.json" else source.read(info.filename)
            target.writestr(info, content)
    return out.getvalue()


def load(path: str | Path, trusted: Collection[str] = (), moved: Mapping[str, str] | None = None):
    """Load a skops file, refusing any type outside skops' allowlist and `trusted`.

    `moved` maps a class's old import path to its new one, so files saved before a refactor still load.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found (run `dvc repro` to train one)")
    try:
        data = _renamed(path.read_bytes(), moved) if moved else path.read_bytes()
        return sio.loads(data, trusted=list(trusted))  # refuses types outside both lists
    except UntrustedTypesFoundException:
        refused = sorted(set(sio.get_untrusted_types(data=data)) - set(trusted))
        raise InputError(f"{path}: refusing to load untrusted types: {', '.join(refused)}") from None
    except Exception as err:  # skops and zipfile raise several types for a file that is not a skops archive
        raise InputError(f"{path}: not a readable skops model file ({err})") from None


def save_features(folder: str | Path, tfidf, matrix, embeddings: np.ndarray) -> None:
    """The fitted TF-IDF body and the training split's feature blocks (embeddings are n x 0 when disabled)."""
    folder = Path(folder)
    save(tfidf, folder / TFIDF_FILE)
    with atomic_path(folder / TFIDF_MATRIX_FILE) as tmp, open(tmp, "wb") as handle:
        sparse.save_npz(handle, matrix.tocsr())  # a handle, so numpy does not append ".npz" to the name
    with atomic_path(folder / EMBEDDINGS_FILE) as tmp, open(tmp, "wb") as handle:
        np.save(handle, embeddings)


def load_features(folder: str | Path):
    """(TF-IDF body, TF-IDF matrix, embeddings) as `save_features` wrote them; the body holds only
    scikit-learn types, so nothing beyond skops' default allowlist is trusted."""
    folder = Path(folder)
    for name in (TFIDF_MATRIX_FILE, EMBEDDINGS_FILE):
        if not (folder / name).is_file():
            raise InputError(f"{folder / name}: not found; re-run the featurize stage")
    matrix = sparse.load_npz(folder / TFIDF_MATRIX_FILE).tocsr()
    return load(folder / TFIDF_FILE), matrix, np.load(folder / EMBEDDINGS_FILE)
