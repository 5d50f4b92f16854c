"""Reading a collection of articles: formats, metadata, dates, and bad articles reported one by one."""

import datetime as dt
import json

import pytest

from pipeline.collection import Article, Problem, input_files, read_collection
from pipeline.files import InputError

PAGE = """<!DOCTYPE html><html><head><title>Amman pushes Arab plan | Orontes Review</title>
<meta property="og:site_name" content="Orontes Review">
<meta property="article:published_time" content="2023-05-07T09:00:00Z"></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article><h1>Amman pushes Arab plan</h1>
<p>Jordan's foreign minister said on Sunday that an Arab role in Syria was overdue and that isolation had
helped no one in the region.</p>
<p>Qatar said it would not normalise relations with Damascus without a political solution to the war.</p>
</article><footer>Copyright 2023 Orontes Review. Subscribe to our newsletter.</footer></body></html>"""


def read(paths):
    items = list(read_collection([str(p) for p in paths]))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Problem)]


def test_a_txt_article_with_its_metadata_lines(tmp_path):
    path = tmp_path / "talks.txt"
    path.write_text("Title: Talks in Moscow\nDate: 2023-05-10\nSource: Levant Wire\n\nAnkara said it was "
                    "ready.\n\nDamascus said it was not.\n", encoding="utf-8")
    (article,), problems = read([path])
    assert (article.doc_id, article.title, article.date, article.source) == (
        "talks", "Talks in Moscow", dt.date(2023, 5, 10), "Levant Wire")
    assert article.text.startswith("Ankara said") and not problems


def test_a_txt_article_without_metadata_keeps_its_first_lines_and_has_no_date(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Note: this is the first line of the article.\n\nAnkara said it was ready.\n",
                    encoding="utf-8")
    (article,), _ = read([path])
    assert article.date is None and article.text.startswith("Note: this is")


def test_an_html_page_gives_its_text_title_date_and_site_without_the_page_chrome(tmp_path):
    path = tmp_path / "amman.html"
    path.write_text(PAGE, encoding="utf-8")
    (article,), _ = read([path])
    assert (article.title, article.date, article.source) == (
        "Amman pushes Arab plan", dt.date(2023, 5, 7), "Orontes Review")
    assert "Qatar said" in article.text
    assert "Subscribe" not in article.text and "Sport" not in article.text


def test_table_rows_are_articles_and_each_bad_row_is_reported_with_its_line(tmp_path):
    jsonl = tmp_path / "news.jsonl"
    rows = [{"doc_id": "a1", "text": "Ankara said it was ready.", "date": "2023-01-05", "source": "Wire"},
            {"doc_id": "a2", "text": "  "},
            {"doc_id": "a3", "text": "Damascus said no.", "date": "5 January"}]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n", encoding="utf-8")
    table = tmp_path / "news.csv"
    table.write_text('doc_id,text,date\nc1,"Jordan welcomed the decision.",2023-02-01\nc2,,\n',
                     encoding="utf-8")
    articles, problems = read([jsonl, table])
    assert [a.doc_id for a in articles] == ["a1", "c1"]
    assert [(p.where.split("/")[-1], p.problem) for p in problems] == [
        ("news.jsonl: line 2", "empty article (no text)"),
        ("news.jsonl: line 3", "date '5 January' is not a date (write it as YYYY-MM-DD)"),
        ("news.jsonl: line 4", "not valid JSON (Expecting property name enclosed in double quotes)"),
        ("news.csv: row 2 (line 3)", "empty article (no text)"),
    ]


def test_a_binary_file_is_a_problem_not_a_failure(tmp_path):
    (tmp_path / "scan.txt").write_bytes(b"%PDF-1.4\x00\x01\x02")
    (tmp_path / "fine.txt").write_text("Ankara said it was ready.", encoding="utf-8")
    articles, problems = read([tmp_path])
    assert [a.doc_id for a in articles] == ["fine"]
    assert problems[0].doc_id == "scan" and "NUL byte" in problems[0].problem


def test_paths_are_checked_before_anything_is_read(tmp_path):
    with pytest.raises(InputError, match="missing.txt: file not found"):
        input_files([str(tmp_path / "missing.txt")])
    (tmp_path / "notes.docx").write_bytes(b"x")
    with pytest.raises(InputError, match=r"notes.docx: unsupported input type '\.docx'"):
        input_files([str(tmp_path / "notes.docx")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: no articles in this folder"):
        input_files([str(tmp_path / "empty")])


def test_a_page_without_a_date_in_its_markup_has_none_not_one_from_its_text(tmp_path):
    path = tmp_path / "undated.html"
    path.write_text("<html><body><article><p>Ankara said on Monday it welcomed the talks with Damascus, "
                    "frozen since 2016 and resumed on 3 March 2021 in Moscow.</p><p>Damascus rejected the "
                    "offer, officials said.</p></article></body></html>", encoding="utf-8")
    (article,), _ = read([path])
    assert article.date is None
