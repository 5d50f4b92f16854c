"""Benchmark: what an install costs and how fast it starts scoring, old and new in one run.

    python bench/install.py [--model PATH] [--repeats N] [--skip-full]

Each variant is installed into a new virtual environment (pip's download cache as it is, versions from
the revision's constraints.txt, the package itself built as a wheel, not editable), then scores one
article with the trained model from the shell. Variants:

- at e69d4bb, `.[embeddings]`: what scoring the default model needed before (torch);
- now, `.`: the light install, which scores any trained model but the fine-tuned encoder;
- at e69d4bb and now, `.[test,embeddings,spark]`: what `make setup` installs (skipped with --skip-full).

Cold start is the wall time of `stance score ARTICLE --model PATH`, process start to exit: the first run
with an empty model cache, then the median of the next runs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.scoring import DEFAULT_MODEL  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402
from tests.e2e.conftest import package_source  # noqa: E402

BEFORE = "e69d4bb"  # the last commit before the encoder ran in ONNX Runtime
ARTICLE = ROOT / "examples/ankara_damascus_talks.txt"
FULL = "test,embeddings,spark"


def source_at(rev: str | None, folder: Path) -> Path:
    """The project's files at `rev` (this checkout's for None) in `folder`, where pip's build writes what
    it writes, not into the checkout."""
    if rev is None:
        return package_source(folder)
    folder.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def install(source: Path, extras: str, venv: Path) -> float:
    """Seconds to create `venv` and install the package with `extras` into it."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    target = f"{source}[{extras}]" if extras else str(source)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, "-c", str(source / "constraints.txt"), target], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"pip install {target} failed: {done.stderr[-800:]}")
    return time.perf_counter() - start


def size_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def cold_starts(venv: Path, model: Path, repeats: int) -> tuple[float, float]:
    """(first run with an empty model cache, median of the next `repeats`) of scoring one article."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "STANCE_CACHE_DIR": cache, "HF_HUB_OFFLINE": "1"}
        env.pop("PYTHONPATH", None)
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            done = subprocess.run([str(venv / "bin/stance"), "score", str(ARTICLE), "--model", str(model)],
                                  cwd=ROOT, capture_output=True, text=True, env=env)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                return float("nan"), float("nan")
    return times[0], statistics.median(times[1:])


def has_torch(venv: Path) -> bool:
    imported = subprocess.run([str(venv / "bin/python"), "-c", "import torch"], capture_output=True)
    return imported.returncode == 0


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_MODEL)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="leave out the two `make setup` installs")
    args = parser.parse_args()
    if not args.model.is_file():
        raise SystemExit(f"{args.model}: not found (run `make repro` first)")
    variants = [(BEFORE, "embeddings"), (None, "")]
    if not args.skip_full:
        variants += [(BEFORE, FULL), (None, FULL)]
    print(f"## Installs: time, size, and cold start of scoring one article with {args.model.name} "
          f"({os.cpu_count()} cores; pip's cache as it was)")
    print(f"{'':42} {'install s':>9} {'venv MiB':>9} {'torch':>6} {'first s':>8} {'next s':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for number, (rev, extras) in enumerate(variants):
            source = source_at(rev, Path(folder) / f"source-{number}")
            venv = Path(folder) / f"venv-{number}"
            seconds = install(source, extras, venv)
            first, warm = cold_starts(venv, args.model, args.repeats)
            name = f"{rev or 'now'} `.{f'[{extras}]' if extras else ''}`"
            print(f"{name:42} {seconds:9.0f} {size_mib(venv):9.0f} {'yes' if has_torch(venv) else 'no':>6} "
                  f"{first:8.2f} {warm:7.2f}")
            shutil.rmtree(venv)
    print("(nan: the install cannot score this model)")


if __name__ == "__main__":
    main()
