"""The actor table, its intervals, the timeline and the networks, from statements made by hand."""

import re

import networkx as nx
import pandas as pd
import pytest

from pipeline.analysis import (
    STATEMENT_COLUMNS,
    Analysis,
    _checked,
    actor_table,
    net_interval,
    networks,
    timeline,
)
from pipeline.collection import Article
from pipeline.files import InputError

AD = "ankara-damascus-normalization"


def statements(rows):
    """rows: (doc, date, actor, target, agreement)."""
    frame = pd.DataFrame(rows, columns=["doc", "date", "actor", "concept", "agreement"])
    frame = frame.assign(date=pd.to_datetime(frame["date"]), sentence_index=range(1, len(frame) + 1),
                         stance=frame["agreement"].map({1: "support", 0: "reject"}), probability=0.9,
                         text="...")
    return frame.reindex(columns=STATEMENT_COLUMNS).fillna({c: "" for c in ("source", "title", "organization",
                                                                           "person", "actor_as_written")})


KINDS = {"Ankara": "government", "Damascus": "government", "Coalition": "opposition body",
         "Moscow": "government", "Wire": "source"}
ROWS = [
    ("d1", "2022-01-10", "Ankara", AD, 0), ("d1", "2022-01-10", "Coalition", AD, 0),
    ("d2", "2022-09-01", "Ankara", AD, 1), ("d2", "2022-09-01", "Ankara", AD, 1),
    ("d3", "2022-09-20", "Ankara", AD, 1), ("d3", "2022-09-20", "Moscow", AD, 1),
    ("d3", "2022-09-20", "Damascus", AD, 0), ("d4", "2022-10-02", "Coalition", AD, 0),
    ("d4", "2022-10-02", "Wire", AD, 1), ("d5", None, "Damascus", AD, 0),
]


def test_the_actor_table_counts_positions_with_an_interval_that_resamples_articles():
    table = actor_table(statements(ROWS), KINDS).set_index("actor")
    ankara = table.loc["Ankara"]
    assert (ankara.statements, ankara.support, ankara.reject, ankara.articles) == (4, 3, 1, 3)
    assert ankara.net_stance == 0.5 and ankara.ci_low < 0.5 < ankara.ci_high <= 1
    assert (ankara.first_date, ankara.last_date) == ("2022-01-10", "2022-09-20")
    assert table.loc["Damascus", "last_date"] == "2022-09-20"  # the undated statement has no date to give
    assert table.loc["Coalition", "ci_low"] == table.loc["Coalition", "ci_high"] == -1.0


def test_the_interval_is_fixed_by_its_seed_and_widens_with_disagreeing_articles():
    agree = pd.DataFrame({"support": [2, 1, 3, 1], "reject": [0, 0, 0, 0]})
    split = pd.DataFrame({"support": [2, 0, 3, 0], "reject": [0, 2, 0, 1]})
    assert net_interval(agree) == (1.0, 1.0)
    assert net_interval(split) == net_interval(split)
    low, high = net_interval(split)
    assert low < 0 < high


def test_the_timeline_has_each_target_and_top_actor_by_month_and_leaves_out_undated_statements():
    frame = timeline(statements(ROWS), KINDS)
    targets = frame[frame["series"] == "target"]
    assert list(targets["month"]) == ["2022-01", "2022-09", "2022-10"]
    assert targets["statements"].sum() == len(ROWS) - 1
    assert "Wire" not in set(frame.loc[frame["series"] == "actor", "name"])


def test_networks_tie_actors_by_their_positions_on_a_target():
    graphs = networks(statements(ROWS), KINDS)
    congruence, conflict = graphs["congruence"], graphs["conflict"]
    assert set(map(frozenset, congruence.edges)) == {frozenset(("Ankara", "Moscow")),
                                                    frozenset(("Coalition", "Damascus"))}
    assert conflict.has_edge("Ankara", "Coalition") and conflict["Ankara"]["Damascus"]["weight"] == 1
    assert "Wire" not in congruence  # an article's own voice is not an actor
    edge = graphs["actor_target"]["Ankara"][AD]
    assert (edge["weight"], edge["support"], edge["reject"], edge["stance"]) == (4, 3, 1, "support")


def test_graphml_round_trips_and_outputs_replace_only_an_earlier_analysis(tmp_path):
    frame = statements(ROWS)
    no_problems = pd.DataFrame(columns=["where", "doc_id", "problem", "skipped"])
    result = Analysis(frame, actor_table(frame, KINDS), timeline(frame, KINDS), no_problems,
                      networks(frame, KINDS), articles=5)
    out = result.write(tmp_path / "out")
    assert nx.read_graphml(out / "conflict.graphml").has_edge("Ankara", "Coalition")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 3  # self-contained: nothing to fetch, nothing to run
    assert not re.search(r"(?:src|href)=\"(?!#)|<script|<link|@import|url\((?!#)", html)
    result.write(out)  # an earlier analysis is replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="holds files that are not an analysis"):
        result.write(tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.docx").read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize("keep_undated", [False, True])
def test_an_undated_article_is_reported_and_skipped_unless_kept(keep_undated):
    undated = Article("no-date", "Ankara welcomed the talks.", "no-date.txt")
    problems = []
    assert list(_checked([undated], problems, keep_undated)) == ([undated] if keep_undated else [])
    assert [(p.doc_id, p.problem, p.skipped) for p in problems] == [("no-date", "no date", not keep_undated)]
