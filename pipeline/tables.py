"""Tables of sentences in and scored rows out, a row or a batch at a time, so that memory stays flat on
files of any size: .csv, .jsonl and .parquet (pyarrow).

An output file is built in `<file>.partial/`, one part file per batch, each written whole, and replaces
`<file>` only once every batch is in; an interrupted run leaves the earlier `<file>` as it was and its
finished batches in the partial folder, where `stance score --resume` picks them up.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.files import InputError, atomic_path, iter_csv_rows, iter_utf8_lines, write_json

TABLE_SUFFIXES = (".csv", ".jsonl", ".parquet")
FORMATS = ("csv", "jsonl", "parquet")
PARQUET_READ_ROWS = 10_000


@dataclass(frozen=True)
class Record:
    """One row of a table: its number (data rows count from 1; a JSON Lines row is numbered by its line),
    where it is, for messages, and its values."""

    number: int
    place: str
    values: dict
    field: str = "column"  # what the format calls a value

    def where(self, name: str) -> str:
        return f"{self.place}, {self.field} '{name}'"


def columns_of(path: Path) -> list[str] | None:
    """The columns a CSV or Parquet file declares (None for JSON Lines, whose rows each have their own)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, _ = iter_csv_rows(iter_utf8_lines(path), str(path))
        return header
    if suffix == ".parquet":
        return list(_parquet_file(path).schema_arrow.names)
    return None


def records(path: Path) -> Iterator[Record]:
    """The rows of a .csv, .jsonl or .parquet file, read as they are needed."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _, rows = iter_csv_rows(iter_utf8_lines(path), str(path))
        return (Record(row.number, row.where(), row.values) for row in rows)
    if suffix == ".parquet":
        return _parquet_records(path)
    return _jsonl_records(path)


def _jsonl_records(path: Path) -> Iterator[Record]:
    for number, line in enumerate(iter_utf8_lines(path), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}: line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(value, dict):
            raise InputError(f"{path}: line {number}: expected a JSON object, found {type(value).__name__}")
        yield Record(number, f"line {number}", value, field="field")


def _parquet_file(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: not a readable Parquet file ({err})") from None


def _parquet_records(path: Path) -> Iterator[Record]:
    number = 0
    for batch in _parquet_file(path).iter_batches(batch_size=PARQUET_READ_ROWS):
        for values in batch.to_pylist():
            number += 1
            yield Record(number, f"row {number}", values)


def format_rows(frame: pd.DataFrame, fmt: str, header: bool = True) -> str:
    """Rows as CSV or JSON Lines text."""
    if fmt == "csv":
        return frame.to_csv(index=False, header=header)
    return "".join(json.dumps(record, ensure_ascii=False, default=str) + "\n"
                   for record in frame.to_dict("records"))


def format_of(path: str | None, requested: str | None) -> str:
    """The output format: --format if given, else the output file's suffix, else a table for reading."""
    suffix = Path(path).suffix.lower().lstrip(".") if path and path != "-" else ""
    if requested in FORMATS and suffix in FORMATS and suffix != requested:
        raise InputError(f"{path}: the file name says {suffix} but --format says {requested}")
    fmt = requested or (suffix if suffix in FORMATS else "table")
    if fmt == "parquet" and suffix != "parquet":
        raise InputError("parquet output needs a file: -o NAME.parquet")
    return fmt


class PartialOutput:
    """The output file built batch by batch in `<path>.partial/` (see the module's docstring).

    `manifest` describes the run (inputs, model, options); a resumed run must describe the same one.
    """

    def __init__(self, path: str | Path, fmt: str, manifest: dict, resume: bool):
        self.path = Path(path)
        self.fmt = fmt
        self.folder = self.path.with_name(self.path.name + ".partial")
        self.manifest = manifest
        manifest_file = self.folder / "manifest.json"
        if self.folder.exists() and not resume:
            raise InputError(f"{self.folder}: an interrupted run left its rows here; add --resume to go on "
                             "with it, or delete the folder to start again")
        if resume and manifest_file.is_file():
            earlier = json.loads(manifest_file.read_text(encoding="utf-8"))
            changed = sorted(key for key in {*earlier, *manifest} if earlier.get(key) != manifest.get(key))
            if changed:
                raise InputError(f"{self.folder}: was written by a different run ({', '.join(changed)} "
                                 "changed); run without --resume after deleting it")
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(manifest_file, manifest)

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob(f"part-*.{self.fmt}"))

    def write(self, index: int, frame: pd.DataFrame) -> None:
        with atomic_path(self.folder / f"part-{index:06d}.{self.fmt}") as tmp:
            if self.fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
            else:
                tmp.write_text(format_rows(frame, self.fmt, header=False), encoding="utf-8")

    def read(self, part: Path, columns: list[str]) -> pd.DataFrame:
        """Some columns of a finished part (a resumed run counts what it holds)."""
        if self.fmt == "parquet":
            return pd.read_parquet(part, columns=columns)
        if self.fmt == "csv":
            return pd.read_csv(part, header=None, names=self.manifest["columns"], usecols=columns,
                               dtype=str, keep_default_na=False)
        return pd.read_json(part, lines=True, dtype=False)[columns]

    def finish(self, columns: list[str]) -> None:
        """Join the parts into the output file, which replaces the earlier one in one step."""
        with atomic_path(self.path) as tmp:
            if self.fmt == "parquet":
                self._join_parquet(tmp)
            else:
                with tmp.open("wb") as out:
                    if self.fmt == "csv":
                        out.write(pd.DataFrame(columns=columns).to_csv(index=False).encode("utf-8"))
                    for part in self.parts():
                        with part.open("rb") as chunk:
                            shutil.copyfileobj(chunk, out)
        shutil.rmtree(self.folder)

    def _join_parquet(self, tmp: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = self.parts()
        # A column with no value in one batch has type null there: the file takes the type the others give.
        schema = pa.unify_schemas([pq.read_schema(part) for part in parts], promote_options="permissive")
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part).cast(schema))


def file_signature(path: str) -> list:
    """What identifies an input file for --resume: its path, size and modification time."""
    if path == "-":
        return [path]
    stat = os.stat(path)
    return [str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns]
