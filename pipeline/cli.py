"""The `stance` command: score articles and sentence files, analyse collections (who stands where), pick
sentences to label and import the labels, validate labelled data, promote models."""

from __future__ import annotations

import argparse
import io
import itertools
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.files import InputError, atomic_path, write_text
from pipeline.stage import long_lived, run

if TYPE_CHECKING:  # the CLI answers --help and bad arguments before importing pandas, skops or torch
    import pandas as pd



def render(frame: pd.DataFrame, fmt: str, title: str | None = None) -> str:
    if fmt != "table":
        from pipeline.tables import format_rows

        return format_rows(frame, fmt)
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


def check_inputs(inputs: list[str]) -> None:
    for source in inputs:
        if source != "-" and not Path(source).is_file():
            raise InputError(f"{source}: " + ("is a directory, expected a file" if Path(source).is_dir()
                                              else "file not found"))


def check_paths(args: argparse.Namespace) -> None:
    """Inputs and outputs are checked before anything heavy is imported, any input is read or anything is
    written, so a typo costs a fraction of a second and leaves every file as it was."""
    check_inputs(args.inputs)
    if args.batch_size < 1 or args.jobs < 1:
        raise InputError("--batch-size and --jobs must be at least 1")
    from pipeline.tables import format_of

    args.format = format_of(args.output, args.format)
    if args.summary and args.format == "table":
        raise InputError("--summary needs csv, jsonl or parquet rows (the table format prints the summary "
                         "below the sentences)")
    outputs = [path for path in (args.output, args.summary) if path and path != "-"]
    if len(set(outputs)) < len(outputs):
        raise InputError(f"{outputs[0]}: -o and --summary name the same file")
    for path in outputs:
        if Path(path).is_dir():
            raise InputError(f"{path}: is a directory; give a file name to write")
    if args.resume and not (args.output and args.output != "-" and args.format != "table"):
        raise InputError("--resume goes on with an interrupted -o FILE of csv, jsonl or parquet rows")


def cmd_score(args: argparse.Namespace) -> None:
    check_paths(args)
    with long_lived():  # pandas, scikit-learn, ONNX Runtime: only once the arguments are known to be good
        import pandas as pd

        from pipeline import scoring
        from pipeline.tables import format_rows

    inputs = [scoring.read_input(source, args.text_column) for source in args.inputs]
    layout = scoring.Layout.of(inputs, args.keep, args.target)  # a bad --keep fails before the model loads
    with long_lived():
        model = scoring.load_model(args.model)
    scoring.warn_about_targets(model, {args.target or ""}.union(*(source.targets for source in inputs)))
    if args.jobs > 1:
        model = None  # each worker loads its own
    documents = (document for source in inputs for document in source.batches(args.batch_size))
    summary = scoring.Summary()

    def scored(documents) -> Iterator[pd.DataFrame]:
        for frame in scoring.scored_batches(model, documents, layout, args.target, args.jobs, args.model):
            summary.add(frame)
            progress.update(len(frame))
            yield frame

    with progress_bar(sum(source.rows for source in inputs)) as progress:
        if args.format == "table":
            rows = render(pd.concat(scored(documents), ignore_index=True), "table")
            emit(rows + "\n" + render(summary.frame(), "table", title="Per document"), args.output)
            return
        if args.output in (None, "-"):
            for number, frame in enumerate(scored(documents)):
                sys.stdout.write(format_rows(frame, args.format, header=number == 0))
        else:
            write_output(args, layout, documents, scored, summary, progress)
    if args.summary:
        write_summary(summary.frame(), args.summary, args.format)
    elif not args.quiet:
        print(render(summary.frame(), "table", title="Per document"), file=sys.stderr, end="")


@contextmanager
def progress_bar(total: int) -> Iterator:
    """Sentences/s and time left on stderr when it is a terminal; nothing otherwise."""
    from tqdm import tqdm

    with tqdm(total=total, unit=" sentences", unit_scale=True, file=sys.stderr, leave=False,
              disable=not sys.stderr.isatty(), dynamic_ncols=True) as bar:
        yield bar


def write_summary(summary: pd.DataFrame, path: str, rows_format: str) -> None:
    """The per-document summary in its file's format (by suffix), else in the rows' format."""
    from pipeline.tables import FORMATS, format_of

    fmt = format_of(path, None)
    fmt = fmt if fmt in FORMATS else ("csv" if rows_format == "parquet" else rows_format)
    if fmt == "parquet":
        with atomic_path(path) as tmp:
            summary.to_parquet(tmp, index=False)
    else:
        emit(render(summary, fmt), path)


def write_output(args, layout, documents, scored, summary, progress) -> None:
    """Scored rows into -o batch by batch, through its partial folder (pipeline/tables.py)."""
    from pipeline import tables
    from pipeline.scoring import DEFAULT_MODEL

    model = str(args.model or DEFAULT_MODEL)
    manifest = {"inputs": [tables.file_signature(source) for source in args.inputs],
                "model": tables.file_signature(model) if Path(model).is_file() else model,
                "batch_size": args.batch_size, "text_column": args.text_column,
                "target": args.target, "columns": layout.columns}
    output = tables.PartialOutput(args.output, args.format, manifest, args.resume)
    done = output.parts()
    for part in done:  # batches an interrupted run finished: counted, not scored again
        rows = output.read(part, ["doc", "label"])
        summary.add(rows)
        progress.update(len(rows))
    try:
        for index, frame in enumerate(scored(itertools.islice(documents, len(done), None)), start=len(done)):
            output.write(index, frame)
    except KeyboardInterrupt:
        print(f"note: the batches scored so far are in {output.folder}; the same command with --resume goes "
              "on from there", file=sys.stderr)
        raise
    output.finish(layout.columns)


def cmd_analyze(args: argparse.Namespace) -> None:
    """Exit status: 0 every article analysed, 2 some skipped (listed in problems.csv and on stderr), 1 none
    analysed or bad arguments."""
    from pipeline.collection import input_files

    input_files(args.inputs)  # a typo in a path fails before the model loads
    from pipeline.analysis import analyze, check_outdir

    check_outdir(Path(args.output))
    result = analyze(args.inputs, args.model, args.actors, args.keep_undated)
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


def check_slug(option: str, value: str) -> None:
    from pipeline.data import SLUG

    if not SLUG.match(value):
        raise InputError(f"{option}: {value!r} is not a slug (lower-case words joined by '-', "
                         "e.g. 'ankara-damascus-normalization')")


def cmd_sample(args: argparse.Namespace) -> None:
    check_inputs(args.inputs)
    if args.n < 1:
        raise InputError(f"-n: {args.n}: pick at least one sentence")
    out = Path(args.output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.force:
        raise InputError(f"{out}: already exists; a batch being labelled there would be lost (choose another "
                         "-o, or --force to replace it)")
    if args.target:
        check_slug("--target", args.target)
    if not Path(args.corpus).is_file():
        raise InputError(f"{args.corpus}: file not found (--corpus: the labelled corpus, whose sentences are "
                         "not picked again)")
    import pandas as pd

    from pipeline import labelling, sampling, scoring
    from pipeline.data import load_sentences, load_user_labels, normalize_text

    labelled = [*load_sentences(args.corpus)["text"], *load_user_labels(args.user_labels)["text"]]
    inputs = [scoring.read_input(source, args.text_column) for source in args.inputs]
    documents = [source.whole() for source in inputs]
    layout = scoring.Layout.of(inputs, [], args.target)
    model = scoring.load_model(args.model)
    scored = pd.concat([scoring.score(model, document, layout, args.target) for document in documents],
                       ignore_index=True)
    candidates = sampling.candidates(documents, scored, {normalize_text(t) for t in labelled})
    if candidates.empty:
        raise InputError("every sentence of the input is labelled already (or repeats one that is)")
    proba = candidates[[f"p_{label}" for label in model.classes_]].to_numpy()
    candidates["uncertainty"] = sampling.uncertainty(proba, args.measure)
    texts = candidates["text"]
    picked = sampling.choose(proba, args.n, args.strategy, args.seed, args.measure, features=lambda rows:
                             sampling.cluster_features(model, texts.iloc[rows].tolist(), args.seed))
    table = labelling.batch_table(candidates.iloc[picked], args.target)
    model_name = str(args.model or scoring.DEFAULT_MODEL)
    report = {"model": model_name, "strategy": args.strategy, "measure": args.measure, "seed": args.seed,
              "requested": args.n, "picked": len(table), "inputs": args.inputs, "sentences": len(scored),
              "candidates": len(candidates), "labelled_or_repeated": len(scored) - len(candidates)}
    labelling.write_batch(out, table, model_name, report)
    print(f"{out}: {len(table)} of {len(candidates)} new sentences picked by {args.strategy} "
          f"({len(scored) - len(candidates)} of {len(scored)} left out: labelled already or repeated); label "
          f"{out / labelling.SHEET} or import {out / labelling.TASKS} into Label Studio "
          f"({out / labelling.CONFIG}), then `stance import`", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> None:
    check_inputs([args.export])
    check_slug("--target", args.target)
    # to_label.csv -> data/raw/user/to-label.csv: one file that each batch's import appends to
    name = args.name or "-".join("".join(c if c.isascii() and c.isalnum() else " "
                                         for c in Path(args.export).stem.lower()).split())
    check_slug("--name", name)
    from pipeline import labelling

    user_folder = Path(args.user_labels)
    export = labelling.read_export(args.export, args.annotator)
    plan = labelling.plan_import(export, Path(args.corpus), user_folder, name, args.target,
                                 args.source or name, args.prefer)
    notes = [f"{plan.already_labelled} labelled the same way already", f"{plan.unlabelled} not labelled yet"]
    if plan.kept_existing:
        notes.append(f"{plan.kept_existing} kept with the label already there (--prefer corpus)")
    if plan.overriding:
        notes.append(f"{plan.overriding} relabelled (--prefer import)")
    if plan.new.empty:
        print(f"{args.export}: nothing new to import ({'; '.join(notes)})", file=sys.stderr)
        return
    path = labelling.apply_import(plan, user_folder, name)
    print(f"{path}: {len(plan.new)} sentence(s) from {plan.new['doc_id'].nunique()} article(s) imported "
          f"({'; '.join(notes)}); `dvc repro` retrains with them", file=sys.stderr)


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
        description="Score articles (.txt, or - for stdin) and sentence files (.csv, .jsonl, .parquet) of "
        "any size: rows are read, scored and written a batch at a time.",
    )
    score.add_argument("inputs", nargs="+", metavar="INPUT",
                       help=".txt article, .csv/.jsonl/.parquet sentences, or -")
    score.add_argument("--model", help="a .skops file or an MLflow URI such as "
                       "models:/stance-classifier@champion (default: models/stance_model.skops)")
    score.add_argument("--text-column", default="text",
                       help="column holding the sentence in .csv/.jsonl (default: text)")
    score.add_argument("--target", help="target slug for sentences without a `target` column, used by "
                       "target-aware models (e.g. ankara-damascus-normalization)")
    score.add_argument("--keep", nargs="*", metavar="COLUMN",
                       help="the input table's columns to keep in the output (default: all; none: --keep)")
    score.add_argument("--format", choices=("table", "csv", "jsonl", "parquet"),
                       help="default: the -o file's suffix (.csv, .jsonl, .parquet), else a table")
    score.add_argument("-o", "--output", help="write the sentence rows here instead of stdout; built in "
                       "OUTPUT.partial/ and put in place when every row is scored")
    score.add_argument("--resume", action="store_true",
                       help="go on with an interrupted -o run from the batches in OUTPUT.partial/")
    score.add_argument("--batch-size", type=int, default=5_000, metavar="N",
                       help="rows read, scored and written at a time (default: 5000)")
    score.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                       help="worker processes scoring batches side by side (default: 1, which already "
                       "uses every core for the MiniLM models)")
    score.add_argument("--summary", help="write the per-document summary here (csv, jsonl or parquet)")
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
    analyze.add_argument("--keep-undated", action="store_true",
                         help="analyse undated articles too, out of the timeline (default: report, skip)")
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

    sample = commands.add_parser(
        "sample", help="pick the unlabelled sentences whose labels would help the model most",
        description="Score articles (.txt) and sentence files (.csv, .jsonl, .parquet) and write a batch to "
                    "label: to_label.csv (a spreadsheet), tasks.json and labeling_config.xml (Label Studio).",
    )
    sample.add_argument("inputs", nargs="+", metavar="INPUT",
                        help=".txt article, .csv/.jsonl/.parquet sentences, or -")
    sample.add_argument("-n", type=int, default=200, help="sentences to pick (default: 200)")
    sample.add_argument("-o", "--output", default="batch", help="a new folder for the batch (default: batch)")
    sample.add_argument("--strategy", choices=("diverse-uncertainty", "uncertainty", "random"),
                        default="diverse-uncertainty")
    sample.add_argument("--measure", choices=("margin", "entropy"), default="margin",
                        help="how uncertainty is measured (default: margin between the top two labels)")
    sample.add_argument("--seed", type=int, default=0, help="random_state of clustering and random picks")
    sample.add_argument("--model", help="a .skops file or an MLflow URI (default: models/stance_model.skops)")
    sample.add_argument("--target", help="target slug of the articles (shown to labellers; target-aware "
                        "models use it)")
    sample.add_argument("--text-column", default="text")
    sample.add_argument("--corpus", default="data/raw/sentences.csv",
                        help="the labelled corpus: its sentences are never picked (default: %(default)s)")
    sample.add_argument("--user-labels", default="data/raw/user",
                        help="folder of imported labels, never picked either (default: %(default)s)")
    sample.add_argument("--force", action="store_true", help="replace an existing batch folder")
    sample.set_defaults(handler=cmd_sample)

    imports = commands.add_parser(
        "import", help="add labelled sentences (a filled to_label.csv or a Label Studio export) to the data",
        description="Validates the labels and appends them to data/raw/user/<name>.csv, which `dvc repro` "
                    "trains on beside the shipped corpus. Nothing is written while a problem remains.",
    )
    imports.add_argument("export", help="a filled to_label.csv, or a Label Studio JSON export (.json)")
    imports.add_argument("--target", required=True, help="target slug the sentences were labelled against")
    imports.add_argument("--source", help="the outlet or collection they come from (default: the name)")
    imports.add_argument("--name", help="the user label file, data/raw/user/<name>.csv; an existing one is "
                         "appended to (default: the export's file name as a slug)")
    imports.add_argument("--annotator", help="who labelled rows that do not say (default: your user name)")
    imports.add_argument("--prefer", choices=("import", "corpus"),
                         help="which label wins when a sentence is labelled otherwise in the corpus or an "
                              "earlier import (default: refuse and list them)")
    imports.add_argument("--corpus", default="data/raw/sentences.csv")
    imports.add_argument("--user-labels", default="data/raw/user")
    imports.set_defaults(handler=cmd_import)

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
