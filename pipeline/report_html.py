"""report.html of `stance analyze`: one self-contained page (inline SVG charts and CSS, no script, nothing
fetched), so it opens offline and can be mailed as one file."""

from __future__ import annotations

import io
import re
from html import escape
from typing import TYPE_CHECKING

import networkx as nx
import pandas as pd

if TYPE_CHECKING:
    from pipeline.analysis import Analysis

NETWORK_MIN_STATEMENTS = 2  # actors drawn in the network picture (the GraphML files have them all)
EVIDENCE_PER_ACTOR = 40  # sentences shown under each actor; statements.csv has them all
TABLE_ROWS = 200
COLORS = {"support": "#1b7837", "reject": "#b2182b", "mixed": "#777777"}

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222;
       padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.summary { color: #555; } .note { color: #666; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.support { color: #1b7837; } .reject { color: #b2182b; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
details { margin: .3rem 0; } summary { cursor: pointer; }
"""


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # the XML declaration and DOCTYPE do not belong inside HTML
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # matplotlib's creator record


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "stance-report"  # the same page for the same analysis
    plt.rcParams["svg.fonttype"] = "none"  # words as text: smaller, searchable, copyable
    return plt


def _date_axis(axis) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=6)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _plot_series(axis, series: pd.DataFrame, label: str | None = None) -> None:
    months = pd.PeriodIndex(series["month"], freq="M").to_timestamp()
    line, = axis.plot(months, series["net_stance"], marker="o", markersize=3, label=label)
    axis.fill_between(months, series["ci_low"], series["ci_high"], alpha=0.15, color=line.get_color())
    axis.axhline(0, color="#999", linewidth=0.8)
    axis.set_ylim(-1.05, 1.05)


def targets_chart(timeline: pd.DataFrame) -> str:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(10, 3.6))
    for name, series in timeline[timeline["series"] == "target"].groupby("name"):
        _plot_series(axis, series, name)
    axis.set_ylabel("net stance (support - reject)")
    axis.legend(loc="lower left", fontsize=8)
    _date_axis(axis)
    return _svg(figure)


def actors_chart(timeline: pd.DataFrame, pairs: list[tuple[str, str]]) -> str:
    plt = _pyplot()
    columns = 3
    rows = max(1, -(-len(pairs) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(10, 2.4 * rows), sharex=True, sharey=True,
                                squeeze=False)
    for axis, (actor, target) in zip(axes.flat, pairs, strict=False):
        _plot_series(axis, timeline[(timeline["series"] == "actor") & (timeline["name"] == actor)
                                    & (timeline["target"] == target)])
        axis.set_title(f"{actor}\non {target}", fontsize=9)
        _date_axis(axis)
    for axis in list(axes.flat)[len(pairs):]:
        axis.set_visible(False)
    return _svg(figure)


def _layout(graph: nx.Graph) -> dict:
    """Each group of tied actors laid out on its own (Kamada-Kawai, deterministic), the groups side by side,
    largest first: one layout for all would push the groups to the corners and crush each of them."""
    positions = {}
    left = 0.0
    for component in sorted(nx.connected_components(graph), key=lambda c: (-len(c), sorted(c))):
        part = graph.subgraph(component)
        size = len(component) ** 0.5
        placed = (nx.kamada_kawai_layout(part, scale=size) if len(component) > 1
                  else {next(iter(component)): (0.0, 0.0)})
        for node, (x, y) in placed.items():
            positions[node] = (left + size + x, y)
        left += 2 * size + 0.8
    return positions


def network_chart(congruence: nx.Graph) -> str:
    """The congruence network of the actors with NETWORK_MIN_STATEMENTS or more: placed by their ties
    (spring layout, fixed seed), line width the number of targets they agree on, node size their
    statements, node colour their net stance (green support, red reject)."""
    plt = _pyplot()
    graph = congruence.subgraph(n for n, d in congruence.nodes(data=True)
                                if d.get("statements", 0) >= NETWORK_MIN_STATEMENTS)
    figure, axis = plt.subplots(figsize=(10, 6.5))
    positions = _layout(graph)
    widths = [0.6 + 1.4 * graph[a][b]["weight"] for a, b in graph.edges]
    nx.draw_networkx_edges(graph, positions, ax=axis, edge_color="#7a9a7a", width=widths, alpha=0.5)
    nodes = list(graph.nodes)
    nx.draw_networkx_nodes(graph, positions, nodelist=nodes, ax=axis, cmap="RdYlGn", vmin=-1, vmax=1,
                           node_size=[120 + 30 * graph.nodes[n]["statements"] for n in nodes],
                           node_color=[graph.nodes[n]["net_stance"] for n in nodes], edgecolors="#555")
    nx.draw_networkx_labels(graph, positions, ax=axis, font_size=8)
    axis.margins(0.12)  # room for the labels of the outermost actors
    axis.set_axis_off()
    return _svg(figure)


def _positions(table: pd.DataFrame) -> str:
    """Per target: who supports and who rejects it (net stance), most statements first."""
    rows = []
    for target, group in table[table["kind"] != "source"].groupby("target"):
        cells = []
        for side, picked in (("support", group[group["net_stance"] > 0]),
                             ("reject", group[group["net_stance"] < 0])):
            names = [f"{escape(r.actor)} ({r.statements})" for r in picked.itertuples()]
            cells.append(f'<td class="{side}">{", ".join(names) or "-"}</td>')
        rows.append(f"<tr><td>{escape(target)}</td>{''.join(cells)}</tr>")
    return ("<table><thead><tr><th>target</th><th>support (statements)</th><th>reject (statements)</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _table(frame: pd.DataFrame, numeric: set[str]) -> str:
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{escape(c)}</th>' for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            text = "" if pd.isna(value) else str(value)
            css = "num" if column in numeric else (text if text in ("support", "reject") else "")
            cells.append(f'<td class="{css}">{escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _evidence(statements: pd.DataFrame, order: list[str]) -> str:
    parts = []
    for actor in order:
        rows = statements[statements["actor"] == actor].sort_values(["date", "doc", "sentence_index"])
        support = int(rows["agreement"].sum())
        shown = rows.head(EVIDENCE_PER_ACTOR).assign(
            date=lambda f: f["date"].dt.strftime("%Y-%m-%d"))[
            ["date", "source", "doc", "concept", "stance", "probability", "actor_as_written", "text"]]
        more = len(rows) - len(shown)
        parts.append(
            f"<details><summary><b>{escape(actor)}</b>: {len(rows)} statements "
            f'(<span class="support">{support} support</span>, '
            f'<span class="reject">{len(rows) - support} reject</span>)</summary>'
            + _table(shown, {"probability"})
            + (f'<p class="note">and {more} more in statements.csv</p>' if more else "") + "</details>")
    return "".join(parts)


def render(analysis: Analysis) -> str:
    from pipeline.analysis import VOICE, top_pairs

    statements, table = analysis.statements, analysis.actors
    kinds = dict(zip(table["actor"], table["kind"], strict=False))
    top = top_pairs(statements, kinds)
    dates = statements["date"].dropna()
    span = f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}" if len(dates) else "no dated statements"
    skipped = analysis.problems[analysis.problems["skipped"]]
    undated = analysis.problems[~analysis.problems["skipped"]]
    actors = [a for a in table["actor"].drop_duplicates() if kinds.get(a) != VOICE]
    voices = [a for a in table["actor"].drop_duplicates() if kinds.get(a) == VOICE]
    numeric = {"statements", "support", "reject", "net_stance", "ci_low", "ci_high", "articles"}
    sections = [
        "<h1>Who stands where</h1>",
        f'<p class="summary">{analysis.articles} articles analysed, {len(skipped)} skipped, {len(undated)} '
        f"undated; {len(statements)} statements with a stance by {len(actors)} actors (and {len(voices)} "
        f"sources in their own voice), {span}.</p>",
        '<h2 id="positions">Who supports, who rejects</h2>',
        '<p class="note">Actors by the sign of their net stance on each target over the whole collection '
        "(see the actor table for intervals).</p>",
        _positions(table),
        '<h2 id="targets">Stance over time by target</h2>',
        '<p class="note">Net stance per month = (support - reject) / statements, all holders; the band is '
        "the 95% interval from resampling articles.</p>",
        f'<figure class="chart" id="chart-targets">{targets_chart(analysis.timeline)}</figure>'
        if not analysis.timeline.empty else "<p>No dated statements.</p>",
        '<h2 id="top-actors">Top actors over time</h2>',
        f'<p class="note">The {len(top)} actors and targets with most statements, each on its own target, '
        "per month with 95% bands.</p>",
        f'<figure class="chart" id="chart-actors">{actors_chart(analysis.timeline, top)}</figure>'
        if top and not analysis.timeline.empty else "<p>No actors with dated statements.</p>",
        '<h2 id="actors">Actor table</h2>',
        '<p class="note">Per actor and target; the 95% interval resamples articles. Sources speaking in '
        "their own voice have kind <i>source</i>.</p>",
        _table(table.head(TABLE_ROWS), numeric),
        f'<p class="note">{len(table) - TABLE_ROWS} more rows in actors.csv</p>' if len(table) > TABLE_ROWS
        else "",
        '<h2 id="network">Congruence network</h2>',
        f'<p class="note">Actors with {NETWORK_MIN_STATEMENTS} or more statements, tied when they hold the '
        "same position on a target (thicker: more targets); colour: net stance, from red (reject) to green "
        "(support); size: statements. congruence.graphml and conflict.graphml (opposite positions) open in "
        "Gephi.</p>",
        f'<figure class="chart" id="chart-network">{network_chart(analysis.graphs["congruence"])}</figure>'
        if analysis.graphs["congruence"].number_of_nodes() else "<p>No actors.</p>",
        '<h2 id="evidence">The sentences behind each position</h2>',
        _evidence(statements, actors + voices),
    ]
    if not analysis.problems.empty:
        sections += ['<h2 id="problems">Articles with problems</h2>',
                     _table(analysis.problems, set())]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Who stands where</title><style>{CSS}</style></head><body>"
            + "\n".join(sections) + "</body></html>\n")
