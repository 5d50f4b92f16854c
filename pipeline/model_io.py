"""Saving and loading fitted models and featurizers as skops files: no arbitrary code runs on load, and the
same object always gives the same bytes. Commands that start often load models through a cache.

Which types a file may hold is the caller's to say (the model registry knows its own classes), so this
module depends on no model code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import zipfile
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
from scipy import sparse

from pipeline.files import InputError, atomic_path

# What the `featurize` and `train` stages write into their output folders.
TFIDF_FILE, TFIDF_MATRIX_FILE, EMBEDDINGS_FILE = "tfidf.skops", "train_tfidf.npz", "train_embeddings.npy"
EMBEDDER_FILE = "embedder.skops"
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
    import skops.io as sio  # seconds to import: not for the commands that only read the cache

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
    return _load_bytes(_read(path), path, trusted, moved)


def _read(path: Path) -> bytes:
    if not Path(path).is_file():
        raise InputError(f"{path}: model file not found (run `dvc repro` to train one)")
    return Path(path).read_bytes()


def _load_bytes(data: bytes, path: Path, trusted: Collection[str], moved: Mapping[str, str] | None):
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        data = _renamed(data, moved) if moved else data
        return sio.loads(data, trusted=list(trusted))  # refuses types outside both lists
    except UntrustedTypesFoundException:
        refused = sorted(set(sio.get_untrusted_types(data=data)) - set(trusted))
        raise InputError(f"{path}: refusing to load untrusted types: {', '.join(refused)}") from None
    except Exception as err:  # skops and zipfile raise several types for a file that is not a skops archive
        raise InputError(f"{path}: not a readable skops model file ({err})") from None


# Where loaded models are cached (load_cached): STANCE_CACHE_DIR, or the user's cache folder; an empty
# STANCE_CACHE_DIR turns the cache off.
CACHE_ENV = "STANCE_CACHE_DIR"
CACHED_FILES = 4  # model files kept, the most recently used


def cache_dir() -> Path | None:
    if CACHE_ENV in os.environ:
        return Path(os.environ[CACHE_ENV]) if os.environ[CACHE_ENV] else None
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "stance-pipeline"
    try:
        return Path.home() / ".cache" / "stance-pipeline"
    except RuntimeError:  # no home folder (some service accounts): no cache
        return None


def load_cached(path: str | Path, trusted: Collection[str] = (), moved: Mapping[str, str] | None = None):
    """`load`, through a cache of loaded files for the commands that start often (`stance score`).

    Importing skops and checking and building the object node by node take seconds (a TF-IDF vocabulary
    is a hundred thousand nodes). The cache keeps the checked object as a pickle (joblib.Memory) under the
    SHA-256 of the file's bytes, in the user's own cache folder, as Python keeps bytecode in __pycache__:
    a changed file has another digest and is checked by skops again. A cache that cannot be written is
    left out."""
    path = Path(path)
    folder = cache_dir()
    data = _read(path)
    if folder is None:
        return _load_bytes(data, path, trusted, moved)
    from joblib import Memory

    digest = hashlib.sha256(data).hexdigest()
    try:
        memory = Memory(folder, verbose=0)
        pickled = memory.cache(_checked, ignore=["data", "path"])(digest, sorted(trusted), dict(moved or {}),
                                                                  data, path)
        memory.reduce_size(items_limit=CACHED_FILES)
    except OSError:
        return _load_bytes(data, path, trusted, moved)
    return pickle.loads(pickled)


def _checked(digest: str, trusted: list[str], moved: dict[str, str], data: bytes, path: Path) -> bytes:
    """What the cache keeps for the file whose bytes have this digest: the object pickled into one bytes
    value, since joblib reads its own pickles with Python's pure-Python unpickler (a TF-IDF vocabulary
    loads several times faster through pickle's C one)."""
    return pickle.dumps(_load_bytes(data, path, trusted, moved), protocol=pickle.HIGHEST_PROTOCOL)


def save_features(folder: str | Path, tfidf, matrix, embeddings: np.ndarray, embedder=None) -> None:
    """The fitted TF-IDF body, the training split's feature blocks (embeddings are n x 0 when disabled) and
    the embedder that computed the embeddings, if any."""
    folder = Path(folder)
    save(tfidf, folder / TFIDF_FILE)
    if embedder is not None:
        save(embedder, folder / EMBEDDER_FILE)
    with atomic_path(folder / TFIDF_MATRIX_FILE) as tmp, open(tmp, "wb") as handle:
        sparse.save_npz(handle, matrix.tocsr())  # a handle, so numpy does not append ".npz" to the name
    with atomic_path(folder / EMBEDDINGS_FILE) as tmp, open(tmp, "wb") as handle:
        np.save(handle, embeddings)


def load_features(folder: str | Path, trusted: Collection[str] = ()):
    """(TF-IDF body, TF-IDF matrix, embeddings, embedder or None) as `save_features` wrote them; the TF-IDF
    body holds only scikit-learn types, the embedder its own class, which `trusted` names."""
    folder = Path(folder)
    for name in (TFIDF_MATRIX_FILE, EMBEDDINGS_FILE):
        if not (folder / name).is_file():
            raise InputError(f"{folder / name}: not found; re-run the featurize stage")
    matrix = sparse.load_npz(folder / TFIDF_MATRIX_FILE).tocsr()
    embedder = load(folder / EMBEDDER_FILE, trusted) if (folder / EMBEDDER_FILE).is_file() else None
    return load(folder / TFIDF_FILE), matrix, np.load(folder / EMBEDDINGS_FILE), embedder
