"""A collection of articles, read one at a time: .txt articles, .html pages saved from the web, and .jsonl /
.csv tables with one article per row; a folder stands for the files in it.

    for item in read_collection(["examples/collection"]):
        if isinstance(item, Problem): ...          # a bad article: where, and what is wrong with it
        else: item.doc_id, item.date, item.text    # an Article

Columns (and .jsonl fields): doc_id and text, and optionally title, date, source, url, target. A .txt article
may start with the same fields as `Key: value` lines before a blank line. The date is the metadata's, else
the page's (.html), else none: never the day the article was read.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.files import CSV_FIELD_LIMIT, InputError, decode_utf8

SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".csv")
FIELDS = ("doc_id", "text", "title", "date", "source", "url", "target")
_HEADER_KEYS = {"title", "date", "source", "url", "target"}


@dataclass(frozen=True)
class Article:
    doc_id: str
    text: str
    where: str  # file, and line or row for a table: for messages
    title: str = ""
    date: dt.date | None = None
    source: str = ""
    url: str = ""
    target: str = ""


@dataclass(frozen=True)
class Problem:
    where: str
    doc_id: str
    problem: str
    skipped: bool = True  # False: reported, and the article is still analysed (no date)


def input_files(inputs: list[str]) -> list[Path]:
    """The files named, and the collection files in the folders named (sorted); an error for a path that
    does not exist or a file of a type we do not read, before anything is read."""
    files = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(f"{path}: no articles in this folder ({', '.join(SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(f"{path}: unsupported input type '{path.suffix}'; use {', '.join(SUFFIXES)} "
                                 "or a folder of them")
            files.append(path)
        else:
            raise InputError(f"{path}: file not found")
    return files


def parse_date(value, where: str) -> dt.date:
    """An ISO date (2023-05-07, or a timestamp such as 2023-05-07T09:00:00Z); anything else is an error."""
    if isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text).date() if "T" in text or " " in text \
            else dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}: date '{text}' is not a date (write it as YYYY-MM-DD)") from None


def _article(where: str, fields: dict, default_id: str) -> Article | Problem:
    doc_id = str(fields.get("doc_id") or default_id).strip()
    text = fields.get("text")
    if not isinstance(text, str) or not text.strip():
        return Problem(where, doc_id, "empty article (no text)")
    try:
        date = parse_date(fields["date"], where) if fields.get("date") not in (None, "") else None
    except InputError as err:
        return Problem(where, doc_id, str(err).removeprefix(f"{where}: "))
    other = {key: str(fields.get(key) or "").strip() for key in ("title", "source", "url", "target")}
    return Article(doc_id, text, where, date=date, **other)


def _front_matter(text: str) -> tuple[dict, str]:
    """`Title: ...`, `Date: ...` lines at the top of a .txt article, up to the first blank line."""
    head, blank, body = text.lstrip("\ufeff").partition("\n\n")
    lines = [line.partition(":") for line in head.splitlines()]
    if not blank or not lines or any(key.strip().lower() not in _HEADER_KEYS or not sep
                                     for key, sep, _ in lines):
        return {}, text
    return {key.strip().lower(): value.strip() for key, _, value in lines}, body


def _read_text(path: Path) -> str | Problem:
    try:
        return decode_utf8(path.read_bytes(), str(path))
    except InputError as err:
        return Problem(str(path), path.stem, str(err).removeprefix(f"{path}: "))


def _read_txt(path: Path) -> Iterator[Article | Problem]:
    text = _read_text(path)
    if isinstance(text, Problem):
        yield text
        return
    fields, body = _front_matter(text)
    yield _article(str(path), {**fields, "text": body}, path.stem)


def _read_html(path: Path) -> Iterator[Article | Problem]:
    import trafilatura  # lxml and the extractor: only for pages

    text = _read_text(path)
    if isinstance(text, Problem):
        yield text
        return
    # The publication date from the page's markup only: a date guessed from the running text ("since 2016")
    # would be worse than none.
    dates = {"extensive_search": False, "original_date": True}
    page = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False,
                                       date_extraction_params=dates)
    page = page.as_dict() if page is not None else {}
    if not (page.get("text") or "").strip():
        yield Problem(str(path), path.stem, "no article text found in the page")
        return
    fields = {"text": page["text"], "title": page.get("title"), "date": page.get("date"),
              "source": page.get("sitename") or page.get("hostname"), "url": page.get("url")}
    yield _article(str(path), fields, path.stem)


def _read_jsonl(path: Path) -> Iterator[Article | Problem]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}: line {number}"
            try:
                line = decode_utf8(raw, where)
            except InputError as err:
                yield Problem(where, f"{path.stem}-{number}", str(err).removeprefix(f"{where}: "))
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield Problem(where, f"{path.stem}-{number}", f"not valid JSON ({err.msg})")
                continue
            if not isinstance(record, dict):
                yield Problem(where, f"{path.stem}-{number}", "not a JSON object")
                continue
            yield _article(where, record, f"{path.stem}-{number}")


def _read_csv(path: Path) -> Iterator[Article | Problem]:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            if "text" not in header:
                raise InputError(f"{path}: line 1: no column 'text' (columns: {', '.join(header)})")
            line = reader.line_num
            for number, row in enumerate(reader, start=1):
                where = f"{path}: row {number} (line {line + 1})"
                line = reader.line_num
                yield _article(where, row, f"{path.stem}-{number}")
        except UnicodeDecodeError as err:
            raise InputError(f"{path}: byte 0x{err.object[err.start]:02x} is not valid UTF-8 "
                             "(save the file as UTF-8)") from None
        except csv.Error as err:
            raise InputError(f"{path}: line {reader.line_num}: {err}") from None


READERS = {".txt": _read_txt, ".html": _read_html, ".htm": _read_html, ".jsonl": _read_jsonl,
           ".csv": _read_csv}


def read_collection(inputs: list[str]) -> Iterator[Article | Problem]:
    """Articles one at a time (memory does not grow with the collection), and a Problem for each bad one."""
    for path in input_files(inputs):
        try:
            yield from READERS[path.suffix.lower()](path)
        except InputError as err:  # a broken table: the rest of the collection is still read
            yield Problem(str(path), path.stem, str(err).removeprefix(f"{path}: "))
