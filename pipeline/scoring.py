"""Scoring new text with a trained model, from Python and behind `stance score`.

    from pipeline.scoring import load_model
    model = load_model()                      # models/stance_model.skops
    model.predict(["Ankara said contact with Damascus is essential for a lasting peace."])
    model.predict_proba(pd.DataFrame({"text": [...], "target": ["ankara-damascus-normalization", ...]}))
"""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pysbd
from pysbd.lang.english import English

from pipeline import LABELS, model_io
from pipeline.files import InputError, decode_utf8, read_csv_rows, read_utf8
from pipeline.models.families import load_model as load_model_file
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.models.inspection import known_targets, reads_targets
from pipeline.models.outputs import PROBABILITY_COLUMNS, label_columns

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
    name: str
    sentences: list[str]
    indices: list[int]  # sentence position in an article, or the row number in a table
    targets: list[str] | None = None  # per sentence, from a table's `target` column
    columns: dict[str, list] = field(default_factory=dict)  # a table's other columns, kept in the output


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


def read_table(path: Path, text_column: str) -> Document:
    text = read_utf8(path)
    texts: list[str] = []
    indices: list[int] = []
    targets: list[str] = []
    records: list[dict] = []  # every row's own fields, so the output keeps the input's columns (ids, dates)
    problems = []
    if path.suffix.lower() == ".csv":
        header, rows = read_csv_rows(text, str(path))
        if text_column not in header:
            raise InputError(f"{path}: line 1: no column '{text_column}' (columns: {', '.join(header)})")
        for row in rows:
            value = row.values.get(text_column, "")
            if not value:
                problems.append(f"{row.where(text_column)}: empty text")
            texts.append(value)
            indices.append(row.number)
            targets.append(row.values.get(TARGET_COLUMN, ""))
            records.append(row.values)
    else:  # .jsonl
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"{path}: line {line_number}: not valid JSON ({err.msg})") from None
            value = record.get(text_column) if isinstance(record, dict) else None
            if not isinstance(value, str) or not value.strip():
                problems.append(f"line {line_number}, field '{text_column}': missing or empty text")
            texts.append(value.strip() if isinstance(value, str) else "")
            indices.append(line_number)
            target = record.get(TARGET_COLUMN) if isinstance(record, dict) else None
            targets.append(target.strip() if isinstance(target, str) else "")
            records.append(record if isinstance(record, dict) else {})
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems[:10]) + (" ..." if len(problems) > 10 else ""))
    if not texts:
        raise InputError(f"{path}: no rows to score")
    names = [name for name in dict.fromkeys(k for r in records for k in r)
             if name not in (text_column, TARGET_COLUMN)]
    columns = {name: [r.get(name) for r in records] for name in names}
    return Document(str(path), texts, indices, targets if any(targets) else None, columns)


def read_input(source: str, text_column: str = TEXT_COLUMN) -> Document:
    """`-` is an article on stdin; .txt an article; .csv / .jsonl one sentence per row."""
    if source == "-":
        return read_article("<stdin>", decode_utf8(sys.stdin.buffer.read(), "<stdin>"))
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl"):
        return read_table(path, text_column)
    if suffix == ".txt":
        return read_article(str(path), read_utf8(path))
    raise InputError(f"{path}: unsupported input type '{suffix}'; use .txt (article), .csv, .jsonl or -")


def warn_about_targets(model, targets: list[str]) -> None:
    """A target the model cannot use is worth a warning: a slug typed wrong is silently ignored otherwise."""
    asked = sorted(set(targets) - {""})
    known = known_targets(model)
    if asked and not reads_targets(model):
        log.warning("this model is not target-aware: the target %s is ignored", ", ".join(asked))
    elif known is not None and (unknown := [t for t in asked if t not in known]):
        log.warning("unknown target %s: the model knows %s; those rows use its shared features only",
                    ", ".join(unknown), ", ".join(known))


def score(model, documents: list[Document], target: str | None = None,
          keep: list[str] | None = None) -> pd.DataFrame:
    """One row per sentence: doc, sentence_index, [the input's columns,] [target,] text, label, p_support,
    p_reject, p_neutral.

    `target` applies to sentences whose document gives none; target-aware models use it, others ignore it.
    A table's other columns are kept (all of them, or those named in `keep`); one named like an output
    column is kept as input_<name> (a gold `label`, say).
    """
    texts = [s for doc in documents for s in doc.sentences]
    targets = [t or target or "" for doc in documents for t in (doc.targets or [None] * len(doc.sentences))]
    warn_about_targets(model, targets)
    proba = model.predict_proba(pd.DataFrame({TEXT_COLUMN: texts, TARGET_COLUMN: targets}))
    frame = pd.concat([pd.DataFrame({
        "doc": [doc.name for doc in documents for _ in doc.sentences],
        "sentence_index": [i for doc in documents for i in doc.indices],
        "target": targets,
        "text": texts,
    }), label_columns(model.classes_, proba)], axis=1)
    columns = OUTPUT_COLUMNS if not any(targets) else OUTPUT_COLUMNS[:2] + ["target"] + OUTPUT_COLUMNS[2:]
    kept = input_columns(documents, keep)
    for name in kept:
        frame[name] = kept[name]
    return frame[columns[:2] + list(kept) + columns[2:]]


def input_columns(documents: list[Document], keep: list[str] | None) -> dict[str, list]:
    """The tables' own columns, row-aligned with the output (empty for articles)."""
    names = list(dict.fromkeys(name for doc in documents for name in doc.columns))
    if keep is not None:
        missing = [name for name in keep if name not in names]
        if missing:
            raise InputError(f"--keep: no column {', '.join(missing)} in the input "
                             f"(columns: {', '.join(names)})")
        names = keep
    return {
        (f"input_{name}" if name in OUTPUT_COLUMNS + ["target"] else name):
            [value for doc in documents for value in doc.columns.get(name, [None] * len(doc.sentences))]
        for name in names
    }


def summarize(scored: pd.DataFrame) -> pd.DataFrame:
    """Per document: sentence count, count and share of each label, and net stance (support − reject)."""
    counts = pd.crosstab(scored["doc"], scored["label"]).reindex(columns=list(LABELS), fill_value=0)
    summary = pd.DataFrame({"doc": counts.index, "sentences": counts.sum(axis=1).to_numpy()})
    for label in LABELS:
        summary[f"n_{label}"] = counts[label].to_numpy()
    for label in LABELS:
        summary[f"share_{label}"] = (summary[f"n_{label}"] / summary["sentences"]).round(3)
    summary["net_stance"] = (summary["share_support"] - summary["share_reject"]).round(3)
    order = list(dict.fromkeys(scored["doc"]))
    return summary.set_index("doc").loc[order].reset_index()
