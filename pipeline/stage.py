"""Entry-point plumbing shared by the `python -m pipeline.<stage>` commands and the CLI."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pipeline.files import InputError


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """A stage's command line, with its module docstring (usage included) as the help text."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def run(main: Callable[[], None]) -> None:
    """Run `main` with logging set up; turn an InputError into a one-line message and exit status 1."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main()
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
