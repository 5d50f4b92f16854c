"""Who stands where: a collection of articles in; statements, an actor table, a timeline and networks out.

    from pipeline.analysis import analyze
    result = analyze(["examples/collection"])          # the default model, the shipped actor dictionary
    result.statements     # a row per sentence with a stance: actor, organization, concept, agreement, date...
    result.actors         # per actor and target: statements, support, reject, net stance and its 95% interval
    result.timeline       # per month, target (and actor): net stance with its interval
    result.graphs         # networkx graphs: actor-target, congruence, conflict
    result.write("analysis/")                         # the CSVs, the GraphML files and report.html

The stance of a sentence is the model's label; its holder comes from pipeline/holders.py; its target is the
article's (metadata, else the target whose terms the article names most). Intervals resample whole articles.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from pipeline.actors import Dictionary, load_dictionary
from pipeline.collection import Article, Problem, read_collection
from pipeline.files import InputError, atomic_dir, write_csv
from pipeline.holders import find_holders
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.models.outputs import label_columns
from pipeline.scoring import load_model, split_sentences

log = logging.getLogger(__name__)

STATEMENT_COLUMNS = ["doc", "date", "source", "title", "sentence_index", "actor", "actor_as_written",
                     "person", "organization", "concept", "agreement", "stance", "probability", "attribution",
                     "text"]
ACTOR_COLUMNS = ["actor", "organization", "kind", "target", "statements", "support", "reject", "net_stance",
                 "ci_low", "ci_high", "articles", "first_date", "last_date"]
BATCH_ARTICLES = 64  # articles scored at once: the model sees batches, memory holds one batch of sentences
RESAMPLES = 1000
RANDOM_STATE = 42
VOICE = "source"  # the kind of an article's own voice in the actor table
OUTPUTS = ("statements.csv", "actors.csv", "timeline.csv", "problems.csv", "actor_target.graphml",
           "congruence.graphml", "conflict.graphml", "report.html")


@dataclass
class Analysis:
    statements: pd.DataFrame
    actors: pd.DataFrame
    timeline: pd.DataFrame
    problems: pd.DataFrame
    graphs: dict[str, nx.Graph]
    articles: int  # analysed
    inputs: list[str] = field(default_factory=list)

    def write(self, outdir: str | Path) -> Path:
        """Every output in `outdir`, all at once: a failure half-way leaves the folder as it was."""
        from pipeline import report_html

        outdir = Path(outdir)
        check_outdir(outdir)
        with atomic_dir(outdir) as tmp:
            write_csv(tmp / "statements.csv", self.statements)
            write_csv(tmp / "actors.csv", self.actors)
            write_csv(tmp / "timeline.csv", self.timeline)
            write_csv(tmp / "problems.csv", self.problems)
            for name, graph in self.graphs.items():
                nx.write_graphml(graph, tmp / f"{name}.graphml")
            (tmp / "report.html").write_text(report_html.render(self), encoding="utf-8")
        return outdir


def check_outdir(outdir: Path) -> None:
    """OUTDIR is replaced as a whole: only a new folder or an earlier analysis may be."""
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir}: is a file; -o needs a folder")
    if outdir.is_dir():
        foreign = sorted(p.name for p in outdir.iterdir() if p.name not in OUTPUTS)
        if foreign:
            raise InputError(f"{outdir}: holds files that are not an analysis ({', '.join(foreign[:3])}); "
                             "give a new folder or an earlier `stance analyze` output")


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _statements(model, articles: list[Article], dictionary: Dictionary,
                problems: list[Problem]) -> tuple[list[dict], int]:
    """The stance-bearing sentences of a batch of articles, with their holders."""
    split = []
    for article in articles:
        sentences = split_sentences(article.text)
        if not sentences:
            problems.append(Problem(article.where, article.doc_id, "no sentences found"))
            continue
        split.append((article, sentences))
    if not split:
        return [], 0
    texts = [s for _, sentences in split for s in sentences]
    article_targets = [_target(article, dictionary) for article, _ in split]
    targets = [target for (_, sentences), target in zip(split, article_targets, strict=True)
               for _ in sentences]
    proba = model.predict_proba(pd.DataFrame({TEXT_COLUMN: texts, TARGET_COLUMN: targets}))
    labels = label_columns(model.classes_, proba)
    rows = []
    offset = 0
    for (article, sentences), target in zip(split, article_targets, strict=True):
        holders = find_holders(sentences, article.source, dictionary)
        for index, (sentence, holder) in enumerate(zip(sentences, holders, strict=True)):
            row = labels.iloc[offset + index]
            if row["label"] == "neutral":
                continue
            actor = dictionary.actors.get(holder.actor)
            voice = holder.how == "article voice"
            rows.append({
                "doc": article.doc_id, "date": article.date, "source": article.source, "title": article.title,
                "sentence_index": index + 1, "actor": holder.actor, "actor_as_written": holder.written,
                "person": holder.actor if holder.personal else "",
                # an unknown group ("protesters") is its own organization; the article's voice, its source's
                "organization": holder.organization or (article.source if voice else "")
                or ("" if holder.personal else holder.actor),
                "concept": target, "agreement": int(row["label"] == "support"),
                "stance": row["label"], "probability": float(row[f"p_{row['label']}"]),
                "attribution": holder.how, "text": sentence,
                "_kind": VOICE if voice else (actor.kind if actor else "unknown"),
            })
        offset += len(sentences)
    return rows, len(split)


def _target(article: Article, dictionary: Dictionary) -> str:
    return article.target or dictionary.target_of(f"{article.title}\n{article.text}")


def analyze(inputs: list[str], model=None, actors: list[str] | None = None, keep_undated: bool = False,
            progress: bool | None = None) -> Analysis:
    """Read the collection, score it, attribute each stance, and build the tables and networks.

    `model`: a fitted model, a .skops path or an MLflow URI (default: models/stance_model.skops). `actors`:
    dictionary files that extend the shipped one. `keep_undated`: analyse undated articles too (in the actor
    table and the networks, not in the timeline); by default they are reported and skipped. `progress`: a
    progress bar (default: on a terminal).
    """
    dictionary = load_dictionary(actors)
    model = model if hasattr(model, "predict_proba") else load_model(model)
    problems: list[Problem] = []
    rows: list[dict] = []
    analysed = 0
    with _progress(progress) as advance:
        for batch in _batches(_checked(read_collection(inputs), problems, keep_undated), BATCH_ARTICLES):
            found, done = _statements(model, batch, dictionary, problems)
            rows.extend(found)
            analysed += done
            advance(len(batch))
    statements = pd.DataFrame(rows, columns=[*STATEMENT_COLUMNS, "_kind"])
    statements["date"] = pd.to_datetime(statements["date"])
    kinds = dict(zip(statements["actor"], statements.pop("_kind"), strict=False))
    return Analysis(
        statements=statements,
        actors=actor_table(statements, kinds),
        timeline=timeline(statements, kinds),
        problems=pd.DataFrame([vars(p) for p in problems], columns=["where", "doc_id", "problem", "skipped"]),
        graphs=networks(statements, kinds),
        articles=analysed,
        inputs=list(inputs),
    )


def _checked(items: Iterable[Article | Problem], problems: list[Problem],
             keep_undated: bool) -> Iterator[Article]:
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Problem):
            problems.append(item)
            log.warning("%s: %s; skipped", item.where, item.problem)
            continue
        if item.doc_id in seen:
            problems.append(Problem(item.where, item.doc_id, f"doc_id '{item.doc_id}' is used twice"))
            log.warning("%s: doc_id '%s' is used twice; skipped", item.where, item.doc_id)
            continue
        seen.add(item.doc_id)
        if item.date is None:
            problems.append(Problem(item.where, item.doc_id, "no date", skipped=not keep_undated))
            log.warning("%s: no date; %s", item.where,
                        "kept out of the timeline (--keep-undated)" if keep_undated else "skipped")
            if not keep_undated:
                continue
        yield item


class _progress:
    """A progress bar on stderr when it is a terminal (rich); nothing in a pipe or a log."""

    def __init__(self, show: bool | None):
        self.show = sys.stderr.isatty() if show is None else show

    def __enter__(self):
        if not self.show:
            return lambda n: None
        from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("analysing articles"), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)
        self.bar.start()
        task = self.bar.add_task("articles", total=None)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc):
        if self.show:
            self.bar.stop()


def _net(support: np.ndarray, reject: np.ndarray) -> np.ndarray:
    total = support + reject
    return np.divide(support - reject, total, out=np.zeros_like(total, dtype=float), where=total > 0)


def net_interval(per_article: pd.DataFrame, resamples: int = RESAMPLES,
                 random_state: int = RANDOM_STATE) -> tuple[float, float]:
    """95% interval of the net stance (support - reject) / statements, resampling articles: the sentences of
    one article are not independent of each other. `per_article`: support and reject counts per article."""
    support = per_article["support"].to_numpy(float)
    reject = per_article["reject"].to_numpy(float)
    rng = np.random.default_rng(random_state)
    picks = rng.integers(0, len(support), size=(resamples, len(support)))
    nets = _net(support[picks].sum(axis=1), reject[picks].sum(axis=1))
    low, high = np.percentile(nets, [2.5, 97.5])
    return round(float(low), 3), round(float(high), 3)


def _summary(group: pd.DataFrame) -> dict:
    per_article = group.assign(reject=1 - group["agreement"]).groupby("doc").agg(
        support=("agreement", "sum"), reject=("reject", "sum"))
    support, reject = int(per_article["support"].sum()), int(per_article["reject"].sum())
    low, high = net_interval(per_article)
    dates = group["date"].dropna()
    return {"statements": len(group), "support": support, "reject": reject,
            "net_stance": round((support - reject) / len(group), 3), "ci_low": low, "ci_high": high,
            "articles": len(per_article),
            "first_date": dates.min().date().isoformat() if len(dates) else "",
            "last_date": dates.max().date().isoformat() if len(dates) else ""}


def actor_table(statements: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Per actor and target, most statements first."""
    rows = []
    for (actor, target), group in statements.groupby(["actor", "concept"], sort=False):
        rows.append({"actor": actor, "organization": group["organization"].iloc[0],
                     "kind": kinds.get(actor, ""), "target": target, **_summary(group)})
    table = pd.DataFrame(rows, columns=ACTOR_COLUMNS)
    return table.sort_values(["statements", "actor", "target"], ascending=[False, True, True],
                             ignore_index=True)


TIMELINE_COLUMNS = ["series", "name", "target", "month", "statements", "support", "reject", "net_stance",
                    "ci_low", "ci_high"]
TOP_ACTORS = 6  # actor-target pairs with a timeline of their own in timeline.csv and the report


def top_pairs(statements: pd.DataFrame, kinds: dict[str, str], n: int = TOP_ACTORS) -> list[tuple[str, str]]:
    """The (actor, target) pairs with the most statements, the articles' own voice aside: an actor's stance
    is followed on one target at a time (Damascus may welcome amnesties and reject Ankara's offers)."""
    counts = (statements[statements["actor"].map(kinds) != VOICE]
              .groupby(["actor", "concept"]).size().reset_index(name="n")
              .sort_values(["n", "actor", "concept"], ascending=[False, True, True]))
    return list(zip(counts["actor"][:n], counts["concept"][:n], strict=True))


def timeline(statements: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Net stance per month for each target (all holders) and for the top actor-target pairs, with 95%
    intervals; undated statements are left out."""
    dated = statements.dropna(subset=["date"]).assign(month=lambda f: f["date"].dt.to_period("M").astype(str))
    rows = []
    for (target, month), group in dated.groupby(["concept", "month"]):
        rows.append({"series": "target", "name": target, "target": target, "month": month, **_summary(group)})
    for actor, target in top_pairs(statements, kinds):
        mine = dated[(dated["actor"] == actor) & (dated["concept"] == target)]
        for month, group in mine.groupby("month"):
            rows.append({"series": "actor", "name": actor, "target": target, "month": month,
                         **_summary(group)})
    return pd.DataFrame(rows).reindex(columns=TIMELINE_COLUMNS)


def networks(statements: pd.DataFrame, kinds: dict[str, str]) -> dict[str, nx.Graph]:
    """Actor -> target with stance, and the actor-actor congruence and conflict networks of discourse network
    analysis. An actor's position on a target is the sign of its net stance there (an even split is no
    position); two actors are tied in the congruence network once for each target on which they hold the
    same position, and in the conflict network once for each target on which they hold opposite ones. The
    articles' own voice is not an actor here."""
    actors = statements[statements["actor"].map(kinds) != VOICE]
    affiliation = nx.DiGraph(name="actor-target")
    congruence = nx.Graph(name="congruence")
    conflict = nx.Graph(name="conflict")
    for actor, group in actors.groupby("actor"):
        support = int(group["agreement"].sum())
        attributes = {"type": "actor", "organization": group["organization"].iloc[0],
                      "kind": kinds.get(actor, ""), "statements": len(group),
                      "net_stance": round((2 * support - len(group)) / len(group), 3)}
        for graph in (affiliation, congruence, conflict):
            graph.add_node(actor, **attributes)
    positions: dict[str, dict[str, str]] = {}
    for (actor, target), group in actors.groupby(["actor", "concept"]):
        support = int(group["agreement"].sum())
        reject = len(group) - support
        affiliation.add_node(target, type="target", organization="", kind="target", statements=0,
                             net_stance=0.0)
        stance = _sign(support, reject)
        affiliation.add_edge(actor, target, weight=len(group), support=support, reject=reject,
                             net_stance=round((support - reject) / len(group), 3), stance=stance)
        if stance != "mixed":
            positions.setdefault(target, {})[actor] = stance
    for target, held in positions.items():
        for a, b in combinations(sorted(held), 2):
            _tie(congruence if held[a] == held[b] else conflict, a, b, target)
    return {"actor_target": affiliation, "congruence": congruence, "conflict": conflict}


def _sign(support: int, reject: int) -> str:
    return "support" if support > reject else "reject" if reject > support else "mixed"


def _tie(graph: nx.Graph, a: str, b: str, target: str) -> None:
    if graph.has_edge(a, b):
        graph[a][b]["weight"] += 1
        graph[a][b]["targets"] = ";".join(sorted({*graph[a][b]["targets"].split(";"), target}))
    else:
        graph.add_edge(a, b, weight=1, targets=target)
