"""The data contract for labelled sentences (data/raw/sentences.csv and the prepared splits)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from pipeline import LABELS
from pipeline.files import InputError, read_csv_rows, read_utf8

log = logging.getLogger(__name__)

COLUMNS = ("doc_id", "sentence_id", "text", "label", "target", "source")
# A user's own labels (`stance import`, data/raw/user/*.csv): the contract's columns, who labelled each row,
# and the article it came from, so a later import of the same article joins its doc_id.
USER_COLUMNS = (*COLUMNS, "annotator", "article")
USER_ID_PREFIX = "user-"  # every user doc_id and sentence_id starts so: never the id of a shipped row
MAX_REPORTED_PROBLEMS = 20
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class DataContractError(InputError):
    """The file breaks the contract; the message lists every problem found (up to a limit)."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_REPORTED_PROBLEMS]
        lines = [f"{path}: {len(problems)} problem(s) with the data:"] + [f"  {p}" for p in shown]
        if len(problems) > len(shown):
            lines.append(f"  ... and {len(problems) - len(shown)} more")
        super().__init__("\n".join(lines))


def normalize_text(text: str) -> str:
    """Text identity for duplicate checks (the contract, `stance sample`, `stance import`): case and runs of
    whitespace do not make a new sentence."""
    return " ".join(text.split()).casefold()


def load_sentences(path: str | Path, columns: tuple[str, ...] = COLUMNS) -> pd.DataFrame:
    """Read and validate a labelled-sentence CSV; return its `columns` without exact duplicates.

    Every problem is reported with its row (counted from 1 after the header), line and column.
    """
    text = read_utf8(path)
    if not text.strip():
        raise InputError(f"{path}: file is empty, expected a header with columns {', '.join(COLUMNS)}")
    header, rows = read_csv_rows(text, str(path))
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            f"{path}: line 1: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(c) for c in header)}"
        )

    problems: list[str] = []
    records: list[dict[str, str]] = []
    first_row_of_id: dict[str, int] = {}
    first_row_of_text: dict[str, tuple[int, str]] = {}
    n_duplicates = 0
    for row in rows:
        if row.n_fields != len(header):
            problems.append(f"{row.where()}: expected {len(header)} fields, found {row.n_fields}")
            continue
        record = {c: row.values[c] for c in columns}
        row_problems = [f"{row.where(c)}: empty value" for c in columns if not record[c]]
        if "\n" in record["text"]:
            row_problems.append(f"{row.where('text')}: the sentence runs over several lines; a quote opened "
                                "in this row is probably not closed")
        label = record["label"]
        if label and label not in LABELS:
            row_problems.append(
                f"{row.where('label')}: unknown label {label!r}; expected one of {', '.join(LABELS)}"
            )
        target = record["target"]
        if target and not SLUG.match(target):
            row_problems.append(
                f"{row.where('target')}: {target!r} is not a slug (lower-case words joined by '-', "
                "e.g. 'ankara-damascus-normalization')"
            )
        sentence_id = record["sentence_id"]
        if sentence_id in first_row_of_id:
            row_problems.append(
                f"{row.where('sentence_id')}: duplicate sentence_id {sentence_id!r} "
                f"(first used in row {first_row_of_id[sentence_id]})"
            )
        if row_problems:
            problems.extend(row_problems)
            continue
        first_row_of_id[sentence_id] = row.number
        key = normalize_text(record["text"])
        if key in first_row_of_text:
            first_row, first_label = first_row_of_text[key]
            if first_label != label:
                problems.append(
                    f"{row.where('text')}: same text labelled {label!r} here "
                    f"and {first_label!r} in row {first_row}"
                )
            else:
                n_duplicates += 1
            continue
        first_row_of_text[key] = (row.number, label)
        records.append(record)

    if problems:
        raise DataContractError(path, problems)
    if not records:
        raise InputError(f"{path}: no data rows after the header")
    if n_duplicates:
        log.info("%s: dropped %d exact duplicate sentence(s) with the same label", path, n_duplicates)
    return pd.DataFrame.from_records(records, columns=list(columns))


def user_label_files(folder: str | Path) -> list[Path]:
    return sorted(Path(folder).glob("*.csv"))


def load_user_labels(folder: str | Path | None) -> pd.DataFrame:
    """Every user label file in `folder` (data/raw/user/*.csv), validated like the corpus, plus: ids start
    with `user-`, and no id or text appears in two files with different labels. Empty when there are none
    (or no folder)."""
    files = user_label_files(folder) if folder else []
    frames = [load_sentences(path, USER_COLUMNS).assign(file=path.name) for path in files]
    if not frames:
        return pd.DataFrame(columns=[*USER_COLUMNS, "file"])
    users = pd.concat(frames, ignore_index=True)
    problems = [f"{row.file}: {column} {row[column]!r} does not start with {USER_ID_PREFIX!r} (user ids must "
                "never collide with the shipped corpus's)"
                for _, row in users.iterrows() for column in ("doc_id", "sentence_id")
                if not row[column].startswith(USER_ID_PREFIX)]
    for _, same in users[users["sentence_id"].duplicated(keep=False)].groupby("sentence_id"):
        problems.append(f"sentence_id {same['sentence_id'].iloc[0]!r} is used in {', '.join(same['file'])}")
    keys = users["text"].map(normalize_text)
    for _, same in users[keys.duplicated(keep=False)].groupby(keys):
        if same["label"].nunique() > 1:
            problems.append(f"{same['text'].iloc[0]!r} is labelled " + " and ".join(
                f"{row.label!r} in {row.file}" for row in same.itertuples()))
    if problems:
        raise DataContractError(folder, problems)
    return users[~keys.duplicated()].reset_index(drop=True)


def relabelled(corpus: pd.DataFrame, users: pd.DataFrame) -> pd.Series:
    """Corpus rows whose text a user label gives (`stance import --prefer import` chose the user's label)."""
    return corpus["text"].map(normalize_text).isin(set(users["text"].map(normalize_text)))


def user_rows(frame: pd.DataFrame) -> pd.Series:
    """Which rows are a user's own labels (their ids carry the user prefix)."""
    return frame["doc_id"].str.startswith(USER_ID_PREFIX)


def split_path(folder: str | Path, name: str) -> Path:
    """Where the `prepare` stage writes the split `name` (train or test)."""
    return Path(folder) / f"{name}.csv"


def read_split(folder: str | Path, name: str) -> pd.DataFrame:
    """Read a split written by the prepare stage (validated there, so only the columns are checked)."""
    path = split_path(folder, name)
    if not path.is_file():
        raise InputError(f"{path}: not found; re-run the prepare stage")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; re-run the prepare stage")
    return frame
