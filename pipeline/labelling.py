"""The labelling loop's files: a batch to label (`stance sample`) for Label Studio or a spreadsheet, and the
labels read back into the user's own label files (`stance import`).

A batch folder holds
    to_label.csv          one row per sentence: its context, the model's suggestion and an empty `label`
    tasks.json            the same as Label Studio tasks, the suggestion as a pre-annotation (`predictions`)
    labeling_config.xml   the Label Studio project: the three labels, the context beside the sentence
    sample.json           how the batch was chosen (model, strategy, seed, counts)

`stance import` reads a filled to_label.csv (any CSV with `text` and `label` columns) or a Label Studio JSON
export, and writes data/raw/user/<name>.csv (pipeline.data.USER_COLUMNS), which `prepare` reads beside the
shipped corpus.
"""

from __future__ import annotations

import getpass
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import LABELS
from pipeline.data import (
    USER_COLUMNS,
    USER_ID_PREFIX,
    DataContractError,
    load_sentences,
    load_user_labels,
    normalize_text,
)
from pipeline.files import (
    InputError,
    atomic_dir,
    atomic_path,
    read_csv_rows,
    read_json,
    read_utf8,
    write_json,
)

SHEET = "to_label.csv"
TASKS = "tasks.json"
CONFIG = "labeling_config.xml"
SAMPLE_REPORT = "sample.json"
SHEET_COLUMNS = ["id", "article", "sentence_index", "target", "headline", "previous", "text", "next",
                 "suggestion", "p_suggestion", "uncertainty", "label", "annotator"]
FROM_NAME, TO_NAME = "stance", "text"  # the choices control and the text it labels, in CONFIG and exports
PREFERENCES = ("import", "corpus")

LABEL_CONFIG = f"""<View>
  <Header value="Stance of the highlighted sentence toward: $target"/>
  <View style="display: flex; gap: 1.5em">
    <View style="flex: 2">
      <Text name="{TO_NAME}" value="$text" granularity="word"
            style="font-size: 1.2em; padding: 0.6em; background: #fff8d6; border-radius: 4px"/>
      <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single-radio" showInline="true" required="true">
{chr(10).join(f'        <Choice value="{label}" hotkey="{label[0]}"/>' for label in LABELS)}
      </Choices>
    </View>
    <View style="flex: 3; color: #555">
      <Header value="Context" size="5"/>
      <Text name="headline" value="Headline: $headline"/>
      <Text name="previous" value="Before: $previous"/>
      <Text name="next" value="After: $next"/>
      <Text name="article" value="Article: $article (sentence $sentence_index)"/>
    </View>
  </View>
</View>
"""


def batch_table(picked: pd.DataFrame, target: str | None) -> pd.DataFrame:
    """The spreadsheet rows of picked, scored candidates (pipeline.sampling.candidates)."""
    probabilities = picked[[f"p_{label}" for label in LABELS]].to_numpy()
    table = pd.DataFrame({
        "id": [f"{article}#{index}" for article, index in zip(picked["article"], picked["sentence_index"],
                                                                strict=True)],
        "article": picked["article"], "sentence_index": picked["sentence_index"],
        "target": picked["target"] if "target" in picked else (target or ""),
        "headline": picked["headline"], "previous": picked["previous"], "text": picked["text"],
        "next": picked["next"], "suggestion": picked["label"],
        "p_suggestion": probabilities.max(axis=1).round(4), "uncertainty": picked["uncertainty"].round(4),
        "label": "", "annotator": "",
    })
    table["target"] = table["target"].replace("", target or "")
    return table[SHEET_COLUMNS].reset_index(drop=True)


def tasks(table: pd.DataFrame, model_version: str) -> list[dict]:
    """Label Studio tasks (its JSON import format), the model's suggestion as a prediction."""
    data_columns = ["id", "article", "sentence_index", "target", "headline", "previous", "text", "next"]
    return [{
        "data": {column: (int(row[column]) if column == "sentence_index" else str(row[column]))
                 for column in data_columns},
        "predictions": [{
            "model_version": model_version,
            "score": float(row["p_suggestion"]),
            "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                        "value": {"choices": [row["suggestion"]]}}],
        }],
    } for _, row in table.iterrows()]


def write_batch(folder: str | Path, table: pd.DataFrame, model_version: str, report: dict) -> None:
    """All files of a batch, or none: the folder appears only once complete."""
    with atomic_dir(folder) as tmp:
        table.to_csv(tmp / SHEET, index=False, encoding="utf-8")
        write_json(tmp / TASKS, tasks(table, model_version))
        (tmp / CONFIG).write_text(LABEL_CONFIG, encoding="utf-8")
        write_json(tmp / SAMPLE_REPORT, report)


@dataclass
class Labelled:
    """One labelled sentence of an export."""

    where: str  # "row 3 (line 4)" or "task 12": how the user finds it in the export
    text: str
    label: str
    article: str
    sentence_index: str
    annotator: str


@dataclass
class Export:
    path: Path
    rows: list[Labelled] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unlabelled: int = 0  # rows or tasks nobody labelled yet: left for a later import


def check_label(export: Export, where: str, value: str) -> str | None:
    """The label, case and spaces aside (a spreadsheet's "Support " is support); None and a problem if
    unknown."""
    label = value.strip().casefold()
    if label not in LABELS:
        export.problems.append(f"{where}: unknown label {value!r}; expected one of {', '.join(LABELS)}")
        return None
    return label


def read_sheet(path: Path, annotator: str) -> Export:
    """A filled to_label.csv, or any CSV with `text` and `label` columns (rows with an empty label are not
    labelled yet). Without `article`, the file is one article and the row number is the sentence's index."""
    header, rows = read_csv_rows(read_utf8(path), str(path))
    missing = [column for column in ("text", "label") if column not in header]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; found {', '.join(header)}")
    export = Export(path)
    for row in rows:
        values = row.values
        if not values.get("label", "").strip():
            export.unlabelled += 1
            continue
        text = " ".join(values.get("text", "").split())
        if not text:
            export.problems.append(f"{row.where('text')}: empty text")
        label = check_label(export, row.where("label"), values["label"])
        if text and label:
            export.rows.append(Labelled(row.where(), text, label, values.get("article") or path.name,
                                        values.get("sentence_index") or str(row.number),
                                        values.get("annotator", "").strip() or annotator))
    return export


def ls_annotator(annotation: dict, fallback: str) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return who.get("email") or f"label-studio-user-{who.get('id')}"
    return f"label-studio-user-{who}" if who is not None else fallback


def read_label_studio(path: Path, annotator: str) -> Export:
    """A Label Studio JSON export: per task, its submitted (not cancelled) annotations' choice."""
    tasks = read_json(path)
    if not isinstance(tasks, list):
        raise InputError(f"{path}: not a Label Studio JSON export (expected a list of tasks)")
    export = Export(path)
    for number, task in enumerate(tasks, start=1):
        data = task.get("data", {}) if isinstance(task, dict) else {}
        where = f"task {task.get('id', number) if isinstance(task, dict) else number}"
        annotations = [a for a in task.get("annotations", []) if not a.get("was_cancelled")] \
            if isinstance(task, dict) else []
        choices = []
        for annotation in annotations:
            results = [r for r in annotation.get("result", []) if r.get("from_name") == FROM_NAME]
            picked = [choice for result in results for choice in result.get("value", {}).get("choices", [])]
            if picked:
                choices.append((picked[0], ls_annotator(annotation, annotator)))
        if not choices:
            export.unlabelled += 1
            continue
        text = " ".join(str(data.get("text") or "").split())
        if not text:
            export.problems.append(f"{where}: empty text")
        labels = {}
        for choice, who in choices:
            label = check_label(export, f"{where} ({who})", choice)
            if label:
                labels.setdefault(label, []).append(who)
        if len(labels) > 1:
            export.problems.append(f"{where}: annotators disagree: " + ", ".join(
                f"{label!r} by {', '.join(who)}" for label, who in labels.items()))
        elif text and labels:
            label, who = next(iter(labels.items()))
            export.rows.append(Labelled(where, text, label, str(data.get("article") or path.name),
                                        str(data.get("sentence_index") or number), ", ".join(who)))
    return export


def read_export(path: str | Path, annotator: str | None = None) -> Export:
    path = Path(path)
    annotator = annotator or getpass.getuser()
    if path.suffix.lower() == ".json":
        return read_label_studio(path, annotator)
    if path.suffix.lower() == ".csv":
        return read_sheet(path, annotator)
    raise InputError(f"{path}: expected a Label Studio JSON export (.json) or a filled {SHEET} (.csv)")


@dataclass
class ImportPlan:
    new: pd.DataFrame  # rows to append to the import's own file
    replaced: dict[Path, pd.DataFrame]  # earlier user files, less the rows this import relabels
    already_labelled: int  # same text, same label: nothing to add
    kept_existing: int  # conflicts settled for the labels already there (--prefer corpus)
    overriding: int  # conflicts settled for the import's labels (--prefer import)
    unlabelled: int


def labelled_before(corpus_path: Path, user_folder: Path) -> dict[str, tuple[str, str]]:
    """Normalised text -> (label, where) for every sentence labelled already: the corpus, then user files."""
    known = {}
    corpus = load_sentences(corpus_path)
    for row in corpus.itertuples():
        known[normalize_text(row.text)] = (row.label, f"{corpus_path} ({row.sentence_id})")
    for row in load_user_labels(user_folder).itertuples():
        known[normalize_text(row.text)] = (row.label, f"{user_folder / row.file} ({row.sentence_id})")
    return known


def plan_import(export: Export, corpus_path: Path, user_folder: Path, name: str, target: str, source: str,
                prefer: str | None) -> ImportPlan:
    """What an import adds and changes, or a DataContractError listing every problem: those of the export
    (unknown label, empty text), a sentence labelled two ways within the export, and one labelled otherwise
    in the corpus or an earlier import, unless `prefer` says which label wins."""
    problems = list(export.problems)
    first: dict[str, Labelled] = {}
    rows: list[Labelled] = []
    for row in export.rows:
        key = normalize_text(row.text)
        if key in first:
            if first[key].label != row.label:
                problems.append(f"{row.where}: labelled {row.label!r} here and {first[key].label!r} in "
                                f"{first[key].where} (same sentence)")
            continue
        first[key] = row
        rows.append(row)

    known = labelled_before(corpus_path, user_folder)
    added, overridden = [], set()
    already = kept = 0
    for row in rows:
        key = normalize_text(row.text)
        if key not in known:
            added.append(row)
        elif known[key][0] == row.label:
            already += 1
        elif prefer == "import":
            added.append(row)
            overridden.add(key)
        elif prefer == "corpus":
            kept += 1
        else:
            label, where = known[key]
            problems.append(f"{row.where}: labelled {row.label!r} here and {label!r} in {where}")
    if problems:
        raise InputError(f"{DataContractError(export.path, problems)}\nNothing was imported. Fix the export; "
                         "a sentence labelled otherwise in the corpus or an earlier import can also be "
                         "settled with --prefer import|corpus.")

    users = load_user_labels(user_folder)
    new = new_user_rows(added, users, name, target, source)
    replaced = {}
    for file, rows_of_file in users.groupby("file"):
        relabelled = rows_of_file["text"].map(normalize_text).isin(overridden)
        if relabelled.any():
            replaced[user_folder / file] = rows_of_file[~relabelled][list(USER_COLUMNS)]
    return ImportPlan(new, replaced, already, kept, len(overridden), export.unlabelled)


def new_user_rows(rows: list[Labelled], users: pd.DataFrame, name: str, target: str,
                  source: str) -> pd.DataFrame:
    """Ids that never collide: an article labelled before keeps its doc_id; a new one gets the next
    user-<name>-<n>; sentence ids are <doc_id>-s<index in the article>."""
    doc_of = dict(zip(users["article"], users["doc_id"], strict=True))
    taken_docs, taken_sentences = set(users["doc_id"]), set(users["sentence_id"])
    counter = 0
    records = []
    for row in rows:
        if row.article not in doc_of:
            counter += 1
            while f"{USER_ID_PREFIX}{name}-{counter}" in taken_docs:
                counter += 1
            doc_of[row.article] = f"{USER_ID_PREFIX}{name}-{counter}"
            taken_docs.add(doc_of[row.article])
        sentence_id = base = f"{doc_of[row.article]}-s{row.sentence_index}"
        suffix = 1
        while sentence_id in taken_sentences:
            suffix += 1
            sentence_id = f"{base}-{suffix}"
        taken_sentences.add(sentence_id)
        records.append({"doc_id": doc_of[row.article], "sentence_id": sentence_id, "text": row.text,
                        "label": row.label, "target": target, "source": source, "annotator": row.annotator,
                        "article": row.article})
    return pd.DataFrame.from_records(records, columns=list(USER_COLUMNS))


def apply_import(plan: ImportPlan, user_folder: Path, name: str) -> Path:
    """Append the new rows to <user_folder>/<name>.csv and rewrite the files it relabels: every file is
    written aside first and swapped in together, so a failure leaves them all as they were."""
    path = user_folder / f"{name}.csv"
    previous = (load_sentences(path, USER_COLUMNS) if path.is_file()
                else pd.DataFrame(columns=list(USER_COLUMNS)))
    replaced = dict(plan.replaced)
    outputs = {**replaced, path: pd.concat([replaced.pop(path, previous), plan.new], ignore_index=True)}
    with ExitStack() as stack:
        for target, frame in outputs.items():
            if len(frame):
                tmp = stack.enter_context(atomic_path(target))
                frame.to_csv(tmp, index=False, encoding="utf-8")
    for target, frame in outputs.items():  # a file whose every row was relabelled: no empty file left
        if not len(frame):
            target.unlink(missing_ok=True)
    return path
