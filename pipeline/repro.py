"""`make repro`: run `dvc repro`, and whatever happens to it (a stage fails, Ctrl-C), leave the workspace
holding the last good outputs.

    python -m pipeline.repro [dvc repro options]

DVC clears a stage's cached outputs before running it; `dvc checkout` puts back the ones dvc.lock
records, from DVC's cache. The evaluation and the MLflow record are not cleared (they persist and are
replaced only when complete).
"""

from __future__ import annotations

import subprocess
import sys

RESTORE = ["dvc", "checkout", "--quiet"]


def repro(options: list[str]) -> int:
    process = subprocess.Popen(["dvc", "repro", *options])
    try:
        status = process.wait()
    except KeyboardInterrupt:  # DVC got the same Ctrl-C: let it stop on its own, then restore
        process.wait()
        status = 130
    if status != 0:
        why = "interrupted" if status == 130 else "dvc repro failed"
        print(f"make repro: {why}; restoring the last good outputs ({' '.join(RESTORE)})", file=sys.stderr)
        subprocess.run(RESTORE, check=False)
    else:
        warm_model_cache()
    return status


def warm_model_cache() -> None:
    """The first load of a new model file checks it with skops, a few seconds that `stance score` would
    otherwise spend on its first run after training; here they come while the user waits for training."""
    from pipeline.files import InputError
    from pipeline.scoring import DEFAULT_MODEL, load_model

    if DEFAULT_MODEL.is_file():
        try:
            load_model(DEFAULT_MODEL)
        except InputError as err:  # training went well; `stance score` will say the same
            print(f"make repro: note: {err}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(repro(sys.argv[1:]))
