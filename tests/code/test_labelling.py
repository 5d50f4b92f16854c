"""A batch to label (Label Studio tasks and config, the spreadsheet) and `stance import`: what is read back,
what is refused with its row and both labels, ids that never collide, and nothing written unless clean."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pandas as pd
import pytest

from pipeline import LABELS
from pipeline.data import USER_COLUMNS, load_user_labels
from pipeline.files import InputError
from pipeline.labelling import (
    CONFIG,
    FROM_NAME,
    SAMPLE_REPORT,
    SHEET,
    SHEET_COLUMNS,
    TASKS,
    TO_NAME,
    apply_import,
    batch_table,
    plan_import,
    read_export,
    write_batch,
)
from tests.conftest import sentence, write_rows

TARGET = "ankara-damascus-normalization"
CORPUS_TEXT = "Ministers met in Moscow on day 1."  # sentence(1) of the toy corpus, labelled neutral


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A working copy: a small corpus and an empty user-label folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/raw/user").mkdir(parents=True)
    write_rows(tmp_path / "data/raw/sentences.csv", [sentence(n) for n in range(1, 6)])
    return tmp_path


def picked(n=3) -> pd.DataFrame:
    return pd.DataFrame({
        "doc": "a.txt", "sentence_index": range(1, n + 1), "text": [f"Sentence {i} of the article." for i in
                                                                    range(1, n + 1)],
        "label": ["support", "reject", "neutral"][:n], "p_support": [0.5, 0.2, 0.1][:n],
        "p_reject": [0.3, 0.6, 0.2][:n], "p_neutral": [0.2, 0.2, 0.7][:n], "article": "a.txt",
        "headline": "Envoys meet", "previous": "", "next": "", "uncertainty": [0.8, 0.6, 0.5][:n],
    })


def test_a_batch_has_the_spreadsheet_the_tasks_and_the_config(tmp_path):
    table = batch_table(picked(), TARGET)
    write_batch(tmp_path / "batch", table, "models/stance_model.skops", {"strategy": "uncertainty"})
    sheet = pd.read_csv(tmp_path / "batch" / SHEET, dtype=str, keep_default_na=False)
    assert list(sheet.columns) == SHEET_COLUMNS
    assert sheet["label"].eq("").all() and sheet["target"].eq(TARGET).all()
    assert sheet["p_suggestion"].tolist() == ["0.5", "0.6", "0.7"]
    tasks = json.loads((tmp_path / "batch" / TASKS).read_text())
    assert tasks[1]["data"]["text"] == "Sentence 2 of the article." and tasks[1]["data"]["headline"]
    prediction = tasks[1]["predictions"][0]
    assert prediction["model_version"] == "models/stance_model.skops" and prediction["score"] == 0.6
    assert prediction["result"] == [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                                     "value": {"choices": ["reject"]}}]
    config = ElementTree.fromstring((tmp_path / "batch" / CONFIG).read_text())
    choices = config.find(f".//Choices[@name='{FROM_NAME}']")
    assert choices.get("toName") == TO_NAME and [c.get("value") for c in choices] == list(LABELS)
    shown = {element.get("value") for element in config.iter("Text")}
    assert {"$text", "Headline: $headline", "Before: $previous", "After: $next"} <= shown
    assert json.loads((tmp_path / "batch" / SAMPLE_REPORT).read_text()) == {"strategy": "uncertainty"}


def filled_sheet(path, labels, texts=None, article="a.txt"):
    n = len(labels)
    frame = batch_table(picked(3).head(n), TARGET)
    frame["label"] = labels
    frame["article"] = article
    if texts:
        frame["text"] = texts
    frame.to_csv(path, index=False)
    return path


def do_import(repo, path, name="first", prefer=None):
    plan = plan_import(read_export(path, "tester"), repo / "data/raw/sentences.csv", repo / "data/raw/user",
                       name, TARGET, "Test Wire", prefer)
    return apply_import(plan, repo / "data/raw/user", name), plan


def test_a_filled_sheet_is_imported_with_user_ids_source_and_annotator(repo):
    path, plan = do_import(repo, filled_sheet(repo / "to_label.csv", ["Support ", "", "neutral"]))
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(rows.columns) == list(USER_COLUMNS)
    assert rows["label"].tolist() == ["support", "neutral"]  # the unlabelled row waits for a later import
    assert plan.unlabelled == 1
    assert rows["doc_id"].eq("user-first-1").all() and rows["sentence_id"].tolist() == [
        "user-first-1-s1", "user-first-1-s3"]
    assert rows["source"].eq("Test Wire").all() and rows["annotator"].eq("tester").all()
    assert len(load_user_labels(repo / "data/raw/user")) == 2


def test_a_later_import_keeps_an_articles_doc_id_and_never_reuses_an_id(repo):
    do_import(repo, filled_sheet(repo / "one.csv", ["support"]))
    path, plan = do_import(repo, filled_sheet(repo / "two.csv", ["support", "reject", "neutral"]))
    assert plan.already_labelled == 1  # the first sentence, the same label again
    do_import(repo, filled_sheet(repo / "three.csv", ["reject"], texts=["Another article's sentence."],
                                 article="b.txt"))
    users = load_user_labels(repo / "data/raw/user")
    assert users.groupby("article")["doc_id"].unique().map(list).to_dict() == {
        "a.txt": ["user-first-1"], "b.txt": ["user-first-2"]}
    assert users["sentence_id"].is_unique and len(users) == 4


def assert_refused(repo, path, *messages, prefer=None):
    before = sorted(p.name for p in (repo / "data/raw/user").iterdir())
    with pytest.raises(InputError) as refused:
        do_import(repo, path, prefer=prefer)
    for message in messages:
        assert message in str(refused.value)
    assert "Nothing was imported" in str(refused.value)
    assert sorted(p.name for p in (repo / "data/raw/user").iterdir()) == before


def test_an_unknown_label_is_refused_with_its_row(repo):
    assert_refused(repo, filled_sheet(repo / "x.csv", ["support", "maybe"]),
                   "row 2 (line 3), column 'label': unknown label 'maybe'; expected one of support, reject, "
                   "neutral")


def test_an_empty_text_is_refused_with_its_row(repo):
    assert_refused(repo, filled_sheet(repo / "x.csv", ["support", "reject"], texts=["A sentence.", " "]),
                   "row 2 (line 3), column 'text': empty text")


def test_a_sentence_labelled_two_ways_in_the_import_is_refused_with_both_rows_and_labels(repo):
    path = filled_sheet(repo / "x.csv", ["support", "reject"], texts=["Same words.", "same  WORDS."])
    assert_refused(repo, path, "row 2 (line 3): labelled 'reject' here and 'support' in row 1 (line 2)")
    assert_refused(repo, path, "labelled 'reject' here and 'support' in row 1", prefer="import")


def test_a_conflict_with_the_corpus_is_refused_with_both_labels(repo):
    path = filled_sheet(repo / "x.csv", ["support", "reject"], texts=[CORPUS_TEXT, "New words."])
    assert_refused(repo, path, "row 1 (line 2): labelled 'support' here and 'neutral' in "
                   f"{repo / 'data/raw/sentences.csv'} (s1)")


def test_a_conflict_with_an_earlier_import_is_refused(repo):
    do_import(repo, filled_sheet(repo / "one.csv", ["support"]))
    assert_refused(repo, filled_sheet(repo / "two.csv", ["reject"]),
                   "labelled 'reject' here and 'support' in", "first.csv (user-first-1-s1)")


def test_prefer_corpus_keeps_the_label_already_there_and_imports_the_rest(repo):
    path = filled_sheet(repo / "x.csv", ["support", "reject"], texts=[CORPUS_TEXT, "New words."])
    written, plan = do_import(repo, path, prefer="corpus")
    assert plan.kept_existing == 1
    assert pd.read_csv(written)["text"].tolist() == ["New words."]


def test_prefer_import_relabels_an_earlier_import(repo):
    do_import(repo, filled_sheet(repo / "one.csv", ["support"]), name="older")
    _, plan = do_import(repo, filled_sheet(repo / "two.csv", ["reject"]), name="newer", prefer="import")
    assert plan.overriding == 1
    users = load_user_labels(repo / "data/raw/user")
    assert users["label"].tolist() == ["reject"] and users["file"].tolist() == ["newer.csv"]
    assert not (repo / "data/raw/user/older.csv").exists()  # its only row was relabelled


def label_studio_export(path, tasks):
    path.write_text(json.dumps(tasks))
    return path


def annotation(choice, who=1, cancelled=False):
    return {"completed_by": who, "was_cancelled": cancelled, "result": [
        {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [choice]}}]}


def task(number, text, *annotations):
    return {"id": number, "data": {"text": text, "article": "a.txt", "sentence_index": number},
            "annotations": list(annotations)}


def test_a_label_studio_export_is_read_per_submitted_annotation(repo):
    export = read_export(label_studio_export(repo / "export.json", [
        task(1, "First.", annotation("support", who={"id": 3, "email": "ana@example.org"})),
        task(2, "Second.", annotation("reject", cancelled=True)),
        task(3, "Third.", annotation("neutral"), annotation("neutral", who=2)),
        task(4, "Fourth."),
    ]), "tester")
    assert [(r.text, r.label, r.annotator) for r in export.rows] == [
        ("First.", "support", "ana@example.org"),
        ("Third.", "neutral", "label-studio-user-1, label-studio-user-2")]
    assert export.unlabelled == 2 and not export.problems


def test_label_studio_annotators_who_disagree_are_a_problem_naming_both(repo):
    path = label_studio_export(repo / "export.json", [
        task(7, "Seventh.", annotation("support", who=1), annotation("reject", who=2))])
    assert_refused(repo, path, "task 7: annotators disagree: 'support' by label-studio-user-1, 'reject' by "
                   "label-studio-user-2")


def test_user_label_files_need_user_ids(repo):
    write_rows(repo / "data/raw/user/hand.csv", [{**sentence(1, text="Hand made."), "annotator": "me",
                                                  "article": "x"}], columns=USER_COLUMNS)
    with pytest.raises(InputError, match="hand.csv: doc_id 'art-1' does not start with 'user-'"):
        load_user_labels(repo / "data/raw/user")


def test_stance_import_refuses_with_one_message_and_no_traceback(repo):
    path = filled_sheet(repo / "x.csv", ["support", "maybe"])
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "import", str(path), "--target", TARGET],
                            cwd=repo, capture_output=True, text=True)
    assert result.returncode == 1
    assert "unknown label 'maybe'" in result.stderr and "Traceback" not in result.stderr
    assert list((repo / "data/raw/user").iterdir()) == []
