"""Entry-point plumbing shared by the `python -m pipeline.<stage>` commands and the CLI."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pipeline.files import InputError


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """A stage's command line, with its module docstring (usage included) as the help text."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


@contextmanager
def long_lived() -> Iterator[None]:
    """For what a command makes once and keeps until it exits: its modules and its model, some 130,000
    objects that Python's cycle collector tracks (and many more made and dropped on the way). The collector
    would walk them again and again while they are made, and once more at exit: 0.3 s of the 1.7 s that
    `stance score` took on one article. It is paused meanwhile; then they are frozen out of its sight
    (gc.freeze) and it runs as usual on what comes after."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def run(main: Callable[[], None]) -> None:
    """Run `main` with logging set up. Bad input, or a file the machine will not read or write, is one line
    and exit status 1; Ctrl-C is one line and 130 (outputs are written atomically, so whatever was there
    before stays); a closed pipe (`| head`) ends quietly."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main()
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except OSError as err:  # the machine refused: a read-only folder, a full disk, a missing device
        if err.filename is None:  # not about a file: a program error, keep its traceback
            raise
        print(f"error: {err.filename}: {err.strerror}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; files already on disk were left as they were", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(141)
