"""The `stance` command: score articles and sentence files, analyse collections (who stands where), validate
labelled data, promote models."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.files import InputError, write_text
from pipeline.stage import run

if TYPE_CHECKING:  # the CLI answers --help and bad arguments before importing pandas, skops or torch
    import pandas as pd



def render(frame: pd.DataFrame, fmt: str, title: str | None = None) -> str:
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "jsonl":
        return "".join(json.dumps(record, ensure_ascii=False, default=str) + "\n"
                       for record in frame.to_dict("records"))
    from rich.console import Console
    from rich.table import Table

    # The whole text, wrapped to the terminal: cut short, a sentence would hide what decided its label.
    table = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    numeric = set(frame.select_dtypes("number").columns)
    for column in frame.columns:
        table.add_column(column, justify="right" if column in numeric else "left",
                         overflow="fold", ratio=3 if column == "text" else None)
    for row in frame.itertuples(index=False):
        table.add_row(*("" if value is None else str(value) for value in row))
    width = shutil.get_terminal_size((120, 24)).columns
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(table)
    return console.file.getvalue()


def emit(text: str, path: str | None) -> None:
    if path is None or path == "-":
        sys.stdout.write(text)
    else:
        write_text(path, text)


def check_paths(args: argparse.Namespace) -> None:
    """Inputs and outputs are checked before anything heavy is imported, any input is read or anything is
    written, so a typo costs a fraction of a second and leaves every file as it was."""
    for source in args.inputs:
        if source != "-" and not Path(source).is_file():
            raise InputError(f"{source}: " + ("is a directory, expected a file" if Path(source).is_dir()
                                              else "file not found"))
    if args.summary and args.format == "table":
        raise InputError("--summary needs --format csv or jsonl (the table format prints the summary below "
                         "the sentences)")
    outputs = [path for path in (args.output, args.summary) if path and path != "-"]
    if len(set(outputs)) < len(outputs):
        raise InputError(f"{outputs[0]}: -o and --summary name the same file")
    for path in outputs:
        if Path(path).is_dir():
            raise InputError(f"{path}: is a directory; give a file name to write")


def cmd_score(args: argparse.Namespace) -> None:
    check_paths(args)
    from pipeline import scoring  # pandas, skops, scikit-learn: only once the arguments are known to be good

    documents = [scoring.read_input(source, args.text_column) for source in args.inputs]
    scoring.input_columns(documents, args.keep)  # a --keep that names no column fails before the model loads
    model = scoring.load_model(args.model)
    scored = scoring.score(model, documents, args.target, args.keep)
    summary = scoring.summarize(scored)
    if args.format == "table":
        emit(render(scored, "table") + "\n" + render(summary, "table", title="Per document"), args.output)
        return
    rows, per_document = render(scored, args.format), render(summary, args.format)
    emit(rows, args.output)
    if args.summary:
        emit(per_document, args.summary)
    elif not args.quiet:
        print(render(summary, "table", title="Per document"), file=sys.stderr, end="")


def cmd_analyze(args: argparse.Namespace) -> None:
    """Exit status: 0 every article analysed, 2 some skipped (listed in problems.csv and on stderr), 1 none
    analysed or bad arguments."""
    from pipeline.collection import input_files

    input_files(args.inputs)  # a typo in a path fails before the model loads
    from pipeline.analysis import analyze, check_outdir

    check_outdir(Path(args.output))
    result = analyze(args.inputs, args.model, args.actors, args.require_date)
    if result.articles == 0:
        raise InputError("no article could be analysed (see the messages above); nothing was written")
    result.write(args.output)
    skipped = int(result.problems["skipped"].sum())
    print(f"{result.articles} articles analysed, {skipped} skipped; {len(result.statements)} statements by "
          f"{result.actors['actor'].nunique()} actors -> {args.output}/ (report.html, statements.csv, "
          "actors.csv, timeline.csv, *.graphml)", file=sys.stderr)
    if skipped:
        sys.exit(2)


def cmd_validate(args: argparse.Namespace) -> None:
    """The checks `dvc repro` makes before any stage writes: the same verdict on the same file."""
    from pipeline import LABELS
    from pipeline.data import load_sentences
    from pipeline.params import load_params
    from pipeline.splits import check_trainable

    sentences = load_sentences(args.path)
    if Path(args.params).is_file():
        check_trainable(sentences, load_params(args.params).prepare.test_size, args.path)
    else:
        print(f"note: no {args.params}, so whether there are enough articles to split was not checked",
              file=sys.stderr)
    counts = sentences["label"].value_counts().reindex(LABELS, fill_value=0)
    print(
        f"{args.path}: OK, {len(sentences)} sentences in {sentences['doc_id'].nunique()} articles "
        f"({', '.join(f'{label} {n}' for label, n in counts.items())})"
    )


def cmd_score_spark(args: argparse.Namespace) -> None:
    from pipeline.spark import score_with_spark

    score_with_spark(args.input, args.output, args.model, args.text_column, args.master)


def cmd_promote(args: argparse.Namespace) -> None:
    from pipeline import tracking

    tracking.promote(args.version, args.alias)
    print(f"{tracking.REGISTERED_MODEL} version {args.version} is now @{args.alias} "
          f"(models:/{tracking.REGISTERED_MODEL}@{args.alias}) in {tracking.tracking_uri()}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="stance", description=__doc__)
    root.add_argument("--version", action="version", version=f"%(prog)s {version('stance-pipeline')}")
    commands = root.add_subparsers(dest="command", required=True)

    score = commands.add_parser(
        "score", help="label each sentence as support / reject / neutral",
        description="Score articles (.txt, or - for stdin) and sentence files (.csv, .jsonl).",
    )
    score.add_argument("inputs", nargs="+", metavar="INPUT", help=".txt article, .csv/.jsonl sentences, or -")
    score.add_argument("--model", help="a .skops file or an MLflow URI such as "
                       "models:/stance-classifier@champion (default: models/stance_model.skops)")
    score.add_argument("--text-column", default="text",
                       help="column holding the sentence in .csv/.jsonl (default: text)")
    score.add_argument("--target", help="target slug for sentences without a `target` column, used by "
                       "target-aware models (e.g. ankara-damascus-normalization)")
    score.add_argument("--keep", nargs="*", metavar="COLUMN",
                       help="the input table's columns to keep in the output (default: all; none: --keep)")
    score.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    score.add_argument("-o", "--output", help="write the sentence rows here instead of stdout")
    score.add_argument("--summary", help="write the per-document summary here (csv/jsonl formats)")
    score.add_argument("-q", "--quiet", action="store_true", help="do not print the summary on stderr")
    score.set_defaults(handler=cmd_score)

    analyze = commands.add_parser(
        "analyze", help="who stands where: actor-attributed stance over a collection of articles",
        description="Statements (DNA-ready), an actor table, a timeline, networks (GraphML) and report.html "
                    "from .txt/.html articles and .jsonl/.csv collections. Exit status: 0 all articles "
                    "analysed, 2 some skipped (see OUTDIR/problems.csv), 1 none analysed or bad arguments.",
    )
    analyze.add_argument("inputs", nargs="+", metavar="INPUT",
                         help=".txt, .html, .jsonl or .csv (one article per row), or a folder of them")
    analyze.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                         help="folder for the outputs (new, or an earlier analysis: it is replaced)")
    analyze.add_argument("--model", help="a .skops file or an MLflow URI "
                         "(default: models/stance_model.skops)")
    analyze.add_argument("--actors", nargs="*", metavar="YAML", default=[],
                         help="actor dictionaries that extend (or override, by name) the shipped one")
    analyze.add_argument("--require-date", action="store_true",
                         help="skip undated articles (default: report them, keep them out of the timeline)")
    analyze.set_defaults(handler=cmd_analyze)

    validate = commands.add_parser("validate", help="check a labelled-sentence CSV against the data contract")
    validate.add_argument("path")
    validate.add_argument("--params", default="params.yaml",
                          help="params.yaml whose prepare.test_size decides how many articles are needed")
    validate.set_defaults(handler=cmd_validate)

    spark = commands.add_parser(
        "score-spark", help="score a Parquet/CSV dataset on Apache Spark with a registered model",
        description="Adds label, p_support, p_reject, p_neutral to every row; writes Parquet.",
    )
    spark.add_argument("input", help="a .parquet or .csv file or folder (a local path or a URL Spark reads)")
    spark.add_argument("output", help="a new folder for the scored rows, in Parquet")
    spark.add_argument("--model", default="models:/stance-classifier@champion", help="an MLflow model URI")
    spark.add_argument("--text-column", default="text")
    spark.add_argument("--master", help="Spark master, e.g. local[2] (default: spark-submit's or local[*])")
    spark.set_defaults(handler=cmd_score_spark)

    promote = commands.add_parser("promote", help="point the 'champion' alias at a registered model version")
    promote.add_argument("version", help="version number of stance-classifier in the MLflow registry")
    promote.add_argument("--alias", default="champion")
    promote.set_defaults(handler=cmd_promote)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    run(lambda: args.handler(args))


if __name__ == "__main__":
    main()
