"""Strict reading and all-or-nothing writing (pipeline/files.py)."""

import os
import stat

import pytest

from pipeline.files import (
    InputError,
    atomic_dir,
    atomic_path,
    read_csv_rows,
    read_utf8,
    repo_root,
    write_text,
)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("last good\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "last good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path):
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    os.chmod(kept, 0o640)
    write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    old_umask = os.umask(0o022)
    try:
        write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644  # not mkstemp's 0600


def test_a_folder_is_swapped_in_whole_or_not_at_all(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "metrics.json").write_text("{}")
    with pytest.raises(RuntimeError), atomic_dir(folder) as tmp:
        (tmp / "metrics.json").write_text('{"new": 1}')
        raise RuntimeError("evaluation failed")
    assert (folder / "metrics.json").read_text() == "{}"
    with atomic_dir(folder) as tmp:
        (tmp / "report.md").write_text("# new")
    assert sorted(p.name for p in folder.iterdir()) == ["report.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]


def test_read_utf8_names_the_line_of_a_bad_byte_and_refuses_folders(tmp_path):
    (tmp_path / "bad.csv").write_bytes(b"text\nok\ncaf\xe9\n")
    with pytest.raises(InputError, match=r"bad.csv: line 3: byte 0xe9 is not valid UTF-8"):
        read_utf8(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_utf8(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        read_utf8(tmp_path / "missing.csv")


def test_csv_rows_keep_the_physical_line_of_rows_after_a_multi_line_field():
    header, rows = read_csv_rows('text,label\n"two\nlines",neutral\n\nlast,support\n', "s.csv")
    assert header == ["text", "label"]
    found = [(row.number, row.line, row.values["label"]) for row in rows]
    assert found == [(1, 2, "neutral"), (3, 5, "support")]
    assert rows[1].where("label") == "row 3 (line 5), column 'label'"


def test_repo_root_is_dvc_root_inside_dvc_and_the_working_directory_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv("DVC_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert repo_root() == tmp_path.resolve()
    monkeypatch.setenv("DVC_ROOT", "/somewhere/else")
    assert str(repo_root()) == "/somewhere/else"
