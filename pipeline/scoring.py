"""Scoring new text with a trained model, from Python and behind `stance score`.

    from pipeline.scoring import load_model
    model = load_model()                      # models/stance_model.skops
    model.predict(["Ankara said contact with Damascus is essential for a lasting peace."])
    model.predict_proba(pd.DataFrame({"text": [...], "target": ["ankara-damascus-normalization", ...]}))
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pysbd
from pysbd.lang.english import English

from pipeline import LABELS, model_io, tables
from pipeline.files import InputError, decode_utf8, read_utf8
from pipeline.models.families import load_model as load_model_file
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.models.inspection import known_targets, reads_targets
from pipeline.models.outputs import PROBABILITY_COLUMNS, label_columns
from pipeline.stage import long_lived

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path("models") / model_io.MODEL_FILE
OUTPUT_COLUMNS = ["doc", "sentence_index", "text", "label", *PROBABILITY_COLUMNS]
_URI = re.compile(r"^[A-Za-z][\w+.-]+:/")  # models:/..., runs:/..., but not C:/...
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = tuple(".!?:;")
_CLOSERS = "\"'”’)]"
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.){2,}$")  # U.N., U.S.
_ABBREVIATIONS = frozenset(English.Abbreviation.ABBREVIATIONS)  # pysbd's: mr, gen, jan, ...
WRAP_WIDTH = 60  # a line this long that stops mid-sentence was wrapped, not a headline
SEGMENT_WINDOW = 5_000  # characters pysbd reads at once
LONG_SENTENCE_WORDS = 300  # a "sentence" this long is worth a warning
MAX_PROBLEMS = 10  # bad rows reported at once


def load_model(model: str | Path | None = None):
    """The fitted scikit-learn Pipeline: `.predict` / `.predict_proba` on a list of strings.

    `model` is a .skops path (default: models/stance_model.skops) or an MLflow model URI such as
    `models:/stance-classifier@champion` or `runs:/<run_id>/model`.
    """
    model = str(model or DEFAULT_MODEL)
    if _URI.match(model):
        from pipeline import tracking  # imports mlflow: only when a URI asks for it

        return tracking.load_logged_model(model)
    return load_model_file(model)


def _ends_sentence(line: str) -> bool:
    """Whether a line stops at the end of a sentence: end punctuation, perhaps inside closing quotes or
    brackets, that is not the dot of an abbreviation ("U.N.", "Gen.", "Jan."). A quote closed without end
    punctuation ('ready to "open a new page"') does not end one."""
    text = line.rstrip(_CLOSERS)
    if not text.endswith(_SENTENCE_END):
        return False
    last_word = text.split()[-1].lower().rstrip(".")
    return not (_INITIALISM.match(text.split()[-1]) or last_word in _ABBREVIATIONS)


def _unwrap(paragraph: str) -> str:
    """Join hard-wrapped lines; keep a line break after a finished sentence or a headline.

    A line continues on the next when it does not end a sentence and either the next line starts in lower
    case or the line is as long as wrapped text usually is (a short line without end punctuation is a
    headline, a byline or a caption).
    """
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    parts = lines[:1]
    for previous, line in zip(lines, lines[1:], strict=False):
        wrapped = not _ends_sentence(previous) and (
            line[0].islower() or len(previous) >= WRAP_WIDTH or previous.endswith("."))
        parts.append((" " if wrapped else "\n") + line)
    return "".join(parts)


def _segment(segmenter: pysbd.Segmenter, text: str) -> list[str]:
    """pysbd's sentences of `text`, a window at a time: its cost grows much faster than the length of what
    it reads, so a one-paragraph book would take minutes. All but the last sentence of a window are final;
    the last is read again with what follows. pysbd (clean=False) keeps every character, so the sentences
    join back into the text."""
    sentences: list[str] = []
    while len(text) > SEGMENT_WINDOW:
        window = segmenter.segment(text[:SEGMENT_WINDOW])
        if len(window) > 1:
            finished = window[:-1]
        else:  # no sentence end in a whole window: cut at its last space
            cut = text.rfind(" ", 0, SEGMENT_WINDOW)
            finished = [text[:cut if cut > 0 else SEGMENT_WINDOW]]
        sentences.extend(finished)
        text = text[sum(map(len, finished)):]
    return sentences + segmenter.segment(text)


def split_sentences(article: str) -> list[str]:
    """Sentences of an article: paragraphs, then lines, then pysbd (abbreviation-aware)."""
    segmenter = pysbd.Segmenter(language="en", clean=False)
    sentences = []
    for paragraph in _PARAGRAPH_BREAK.split(article.replace("\r\n", "\n")):
        sentences.extend(s.strip() for s in _segment(segmenter, _unwrap(paragraph)) if s.strip())
    return sentences


@dataclass
class Document:
    """Sentences to score: an article, or a batch of a table's rows (several batches share its name)."""

    name: str
    sentences: list[str]
    indices: list[int]  # sentence position in an article, or the row number in a table
    targets: list[str] | None = None  # per sentence, from a table's `target` column
    columns: dict[str, list] = field(default_factory=dict)  # a table's other columns, kept in the output

    def __len__(self) -> int:
        return len(self.sentences)


def read_article(name: str, text: str) -> Document:
    sentences = split_sentences(text)
    if not sentences:
        raise InputError(f"{name}: no sentences found (empty article)")
    for number, sentence in enumerate(sentences, start=1):
        words = len(sentence.split())
        if words > LONG_SENTENCE_WORDS:
            log.warning("%s: sentence %d has %d words and no sentence end; it is scored as one sentence "
                        "(is this text, or a table or a page's code?)", name, number, words)
    return Document(name, sentences, list(range(1, len(sentences) + 1)))


@dataclass
class ArticleInput:
    """An article, split into sentences when it is checked (articles are small)."""

    document: Document
    columns: list[str] = field(default_factory=list)
    targets: set[str] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return len(self.document)

    def whole(self) -> Document:
        return self.document

    def batches(self, size: int) -> Iterator[Document]:
        doc = self.document
        for start in range(0, len(doc), size):
            yield Document(doc.name, doc.sentences[start:start + size], doc.indices[start:start + size])


@dataclass
class TableInput:
    """A .csv, .jsonl or .parquet file of sentences, one per row, read a batch at a time."""

    path: Path
    text_column: str
    rows: int = 0
    columns: list[str] = field(default_factory=list)  # besides the text and the target
    targets: set[str] = field(default_factory=set)

    def check(self) -> TableInput:
        """Read the whole file once, before any model loads: every row has text (the first problems are
        reported together), and which columns and targets it has."""
        declared = tables.columns_of(self.path)
        if declared is not None and self.text_column not in declared:
            place = "line 1: " if self.path.suffix.lower() == ".csv" else ""
            raise InputError(f"{self.path}: {place}no column '{self.text_column}' "
                             f"(columns: {', '.join(declared)})")
        names = dict.fromkeys(declared or [])
        problems = []
        for record in tables.records(self.path):
            self.rows += 1
            names.update(dict.fromkeys(record.values))
            if problem := _text_problem(record.values.get(self.text_column)):
                problems.append(f"{record.where(self.text_column)}: {problem}")
                if len(problems) > MAX_PROBLEMS:
                    break
            if target := _target(record.values):
                self.targets.add(target)
        if problems:
            raise InputError(f"{self.path}: " + "; ".join(problems[:MAX_PROBLEMS])
                             + (" ..." if len(problems) > MAX_PROBLEMS else ""))
        if not self.rows:
            raise InputError(f"{self.path}: no rows to score")
        self.columns = [name for name in names if name not in (self.text_column, TARGET_COLUMN)]
        return self

    def whole(self) -> Document:
        """Every row at once, for what needs the whole table (`stance sample`'s article context)."""
        return self._document(list(tables.records(self.path)))

    def batches(self, size: int) -> Iterator[Document]:
        batch: list[tables.Record] = []
        for record in tables.records(self.path):
            batch.append(record)
            if len(batch) == size:
                yield self._document(batch)
                batch = []
        if batch:
            yield self._document(batch)

    def _document(self, batch: list[tables.Record]) -> Document:
        return Document(
            str(self.path),
            [record.values[self.text_column].strip() for record in batch],
            [record.number for record in batch],
            [_target(record.values) for record in batch],
            {name: [record.values.get(name) for record in batch] for name in self.columns},
        )


def _text_problem(value) -> str | None:
    if value is None:
        return "missing"
    if not isinstance(value, str):
        return f"not text ({type(value).__name__})"
    return None if value.strip() else "empty text"


def _target(values: dict) -> str:
    target = values.get(TARGET_COLUMN)
    return target.strip() if isinstance(target, str) else ""


def read_input(source: str, text_column: str = TEXT_COLUMN) -> ArticleInput | TableInput:
    """`-` is an article on stdin; .txt an article; .csv / .jsonl / .parquet one sentence per row. Checked
    here, read (again, for tables) batch by batch when scored."""
    if source == "-":
        return ArticleInput(read_article("<stdin>", decode_utf8(sys.stdin.buffer.read(), "<stdin>")))
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in tables.TABLE_SUFFIXES:
        return TableInput(path, text_column).check()
    if suffix == ".txt":
        return ArticleInput(read_article(str(path), read_utf8(path)))
    raise InputError(f"{path}: unsupported input type '{suffix}'; use .txt (article), .csv, .jsonl, "
                     ".parquet or -")


def warn_about_targets(model, targets: set[str]) -> None:
    """A target the model cannot use is worth a warning: a slug typed wrong is silently ignored otherwise."""
    asked = sorted(targets - {""})
    known = known_targets(model)
    if asked and not reads_targets(model):
        log.warning("this model is not target-aware: the target %s is ignored", ", ".join(asked))
    elif known is not None and (unknown := [t for t in asked if t not in known]):
        log.warning("unknown target %s: the model knows %s; those rows use its shared features only",
                    ", ".join(unknown), ", ".join(known))


@dataclass(frozen=True)
class Layout:
    """The columns of the scored rows, fixed before the first batch so that every batch writes the same:
    doc, sentence_index, [the input's columns,] [target,] text, label, p_support, p_reject, p_neutral.
    An input column named like an output column is kept as input_<name> (a gold `label`, say)."""

    kept: tuple[str, ...]  # the input columns kept, by their input names
    target: bool

    @classmethod
    def of(cls, inputs: list, keep: list[str] | None, target: str | None) -> Layout:
        """All the inputs' own columns, or those named in `keep`; a target column when any row or --target
        gives one."""
        names = list(dict.fromkeys(name for source in inputs for name in source.columns))
        if keep is not None:
            missing = [name for name in keep if name not in names]
            if missing:
                raise InputError(f"--keep: no column {', '.join(missing)} in the input "
                                 f"(columns: {', '.join(names)})")
            names = keep
        return cls(tuple(names), bool(target) or any(source.targets for source in inputs))

    @property
    def columns(self) -> list[str]:
        return (OUTPUT_COLUMNS[:2] + [_output_name(name) for name in self.kept]
                + ["target"] * self.target + OUTPUT_COLUMNS[2:])


def _output_name(column: str) -> str:
    return f"input_{column}" if column in OUTPUT_COLUMNS + ["target"] else column


def score(model, document: Document, layout: Layout, target: str | None = None) -> pd.DataFrame:
    """The scored rows of a document in `layout`. `target` applies to sentences whose document gives none;
    target-aware models use it, others ignore it."""
    targets = [t or target or "" for t in (document.targets or [None] * len(document))]
    proba = model.predict_proba(pd.DataFrame({TEXT_COLUMN: document.sentences, TARGET_COLUMN: targets}))
    frame = pd.concat([pd.DataFrame({
        "doc": [document.name] * len(document),
        "sentence_index": document.indices,
        "target": targets,
        "text": document.sentences,
    }), label_columns(model.classes_, proba)], axis=1)
    for name in layout.kept:
        frame[_output_name(name)] = document.columns.get(name, [None] * len(document))
    return frame[layout.columns]


def scored_batches(model, documents: Iterable[Document], layout: Layout, target: str | None,
                   jobs: int = 1, model_source: str | None = None) -> Iterator[pd.DataFrame]:
    """Each document scored, in order. With `jobs` > 1, that many worker processes score them (each loads
    the model from `model_source`); a few batches at most wait in flight, so memory stays
    flat."""
    if jobs == 1:
        for document in documents:
            yield score(model, document, layout, target)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    threads = max(1, (os.cpu_count() or 1) // jobs)
    # spawn, not fork: a forked copy of a process that has started its thread pools can hang
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_start_worker,
                             initargs=(model_source, threads)) as pool:
        pending: deque = deque()
        for document in documents:
            pending.append(pool.submit(_score_in_worker, document, layout, target))
            if len(pending) > 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_worker_model = None  # the model a worker process loaded (one per process, set by _start_worker)


def _start_worker(model_source: str | None, threads: int) -> None:
    global _worker_model
    # before any thread pool starts: the cores are shared among the workers (ONNX Runtime reads it too)
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    with long_lived():
        _worker_model = load_model(model_source)


def _score_in_worker(document: Document, layout: Layout, target: str | None) -> pd.DataFrame:
    return score(_worker_model, document, layout, target)


class Summary:
    """Per document: sentence count, count and share of each label, and net stance (support − reject),
    added up batch by batch."""

    def __init__(self):
        self.counts: dict[str, Counter] = {}

    def add(self, scored: pd.DataFrame) -> None:
        for (doc, label), n in scored.groupby(["doc", "label"], sort=False).size().items():
            self.counts.setdefault(doc, Counter())[label] += int(n)

    def frame(self) -> pd.DataFrame:
        summary = pd.DataFrame({"doc": list(self.counts)})
        for label in LABELS:
            summary[f"n_{label}"] = [counts[label] for counts in self.counts.values()]
        summary.insert(1, "sentences", summary[[f"n_{label}" for label in LABELS]].sum(axis=1))
        for label in LABELS:
            summary[f"share_{label}"] = (summary[f"n_{label}"] / summary["sentences"]).round(3)
        summary["net_stance"] = (summary["share_support"] - summary["share_reject"]).round(3)
        return summary
