"""File I/O shared by the stages and the CLI: strict UTF-8 reading and all-or-nothing writes."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def repo_root() -> Path:
    """The repository root: DVC_ROOT inside `dvc repro` and `dvc exp run` (also --temp and --queue, which run
    in a copy elsewhere), else the working directory."""
    return Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()


# The longest CSV field read: a whole article in one cell fits; larger is a mistake, reported with its line.
CSV_FIELD_LIMIT = 16 * 2**20


class InputError(Exception):
    """Bad user input (file, row, column, problem); reported without a traceback, exit status 1."""


def read_utf8(path: str | Path) -> str:
    """Return the file's text, or an InputError naming the line of the first byte that is not UTF-8."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    return decode_utf8(raw, str(path))


def decode_utf8(raw: bytes, name: str, first_line: int = 1) -> str:
    """UTF-8 text; a byte that is not UTF-8 or a NUL byte (binary data, UTF-16) is an error with its line.
    `first_line` is the line `raw` starts on, for a file read a line at a time."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = first_line + raw[: err.start].count(b"\n")
        raise InputError(
            f"{name}: line {line}: byte 0x{raw[err.start]:02x} is not valid UTF-8 "
            "(save the file as UTF-8)"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = first_line + text.count("\n", 0, nul)
        raise InputError(f"{name}: line {line}: NUL byte (a binary file, or text saved as UTF-16?)")
    return text


def iter_utf8_lines(path: str | Path) -> Iterator[str]:
    """The lines of a file of any size, each checked as decode_utf8 checks a whole file."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            yield decode_utf8(raw, str(path), first_line=number)


def _mode_for(path: Path, is_dir: bool) -> int:
    """Keep the mode of what is replaced; a new file or folder gets the umask's (mkstemp would give 0600)."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if is_dir else 0o666) & ~umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it replaces `path` only if the block succeeds.

    A failure half-way leaves whatever was at `path` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _mode_for(path, is_dir=False))
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; it replaces the folder `path` only if the block
    succeeds, so a stage that fails half-way leaves the last good folder in place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    previous = tmp.with_name(tmp.name + ".previous")
    try:
        yield tmp
        os.chmod(tmp, _mode_for(path, is_dir=True))
        if path.exists():
            os.replace(path, previous)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, previous):
            if leftover.exists():
                shutil.rmtree(leftover)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path):
    try:
        return json.loads(read_utf8(path))
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: line {err.lineno}: not valid JSON ({err.msg})") from None


def write_csv(path: str | Path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


@dataclass(frozen=True)
class CsvRow:
    number: int  # data rows count from 1 after the header
    line: int  # the physical line the row starts on (header = line 1)
    values: dict[str, str]
    n_fields: int

    def where(self, column: str | None = None) -> str:
        place = f"row {self.number} (line {self.line})"
        return f"{place}, column '{column}'" if column else place


def read_csv_rows(text: str, name: str) -> tuple[list[str], list[CsvRow]]:
    """Header and rows of CSV text, with the line numbers pandas does not keep."""
    header, rows = iter_csv_rows(io.StringIO(text, newline=""), name)
    return header, list(rows)


def iter_csv_rows(lines: Iterable[str], name: str) -> tuple[list[str], Iterator[CsvRow]]:
    """Header and rows of CSV lines (a file of any size is read a row at a time). `name` (the file)
    prefixes the errors for a field longer than CSV_FIELD_LIMIT and for a quote that is never closed."""
    csv.field_size_limit(CSV_FIELD_LIMIT)  # the module's default, 128 KiB, is less than a long article
    reader = csv.reader(lines, strict=True)
    with _csv_errors(name, 0):
        header = [column.strip() for column in next(reader, [])]

    def rows() -> Iterator[CsvRow]:
        line = reader.line_num
        for number, fields in enumerate(_csv_records(reader, name), start=1):
            start, line = line + 1, reader.line_num
            if not fields:  # blank line
                continue
            if len(fields) != len(header) and line > start:
                # An opening quote that is never closed swallows the lines after it into one field.
                raise InputError(f"{name}: line {start}: a quoted field that starts on this line is not "
                                 f"closed (the row runs on to line {line}); check the quotes in this row")
            values = {column: value.strip() for column, value in zip(header, fields, strict=False)}
            yield CsvRow(number, start, values, len(fields))

    return header, rows()


def _csv_records(reader, name: str) -> Iterator[list[str]]:
    while True:
        done = reader.line_num  # the last line of the last complete row
        with _csv_errors(name, done):
            fields = next(reader, None)
        if fields is None:
            return
        yield fields


@contextmanager
def _csv_errors(name: str, line: int) -> Iterator[None]:
    """csv.Error as an InputError naming the line after `line`, the last one of a complete row."""
    try:
        yield
    except csv.Error as err:
        if "unexpected end of data" in str(err):
            raise InputError(f"{name}: line {line + 1}: a quoted field that starts in this row is never "
                             "closed; check the quotes in this row") from None
        limit = CSV_FIELD_LIMIT // 2**20
        raise InputError(f"{name}: line {line + 1}: {err} (a field over {limit} MiB, or a broken "
                         "quote)") from None
