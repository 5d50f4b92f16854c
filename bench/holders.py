"""Holder benchmark: precision, recall and F1 of pipeline/holders.py for the canonical actor, on the gold set.

    python bench/holders.py [--out bench/holders_results.md]

The gold set (tests/fixtures/holders_gold.yaml, 300 sentences of our own in 60 articles) was written and
marked before the rules; the rules were tuned on its dev half only, and the test half is reported as it
came out. Precision is over the sentences the rules give to an actor (not the article's voice), recall over
the sentences whose gold holder is an actor; accuracy counts every sentence. Also prints the speed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.actors import load_dictionary  # noqa: E402
from pipeline.files import write_text  # noqa: E402
from pipeline.holder_eval import load_gold, score_articles, summarize  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "bench" / "holders_results.md"))
    args = parser.parse_args()
    dictionary = load_dictionary()
    gold = load_gold()
    lines = ["# Holder attribution on the gold set", "",
             "Written by `python bench/holders.py`; see its docstring for the protocol.", "",
             "| half | sentences | with an actor as holder | precision | recall | F1 "
             "| accuracy (voice included) |",
             "|---|---|---|---|---|---|---|"]
    errors = []
    for split in ("dev", "test", "all"):
        articles = [a for a in gold if split in ("all", a["split"])]
        rows = score_articles(articles, dictionary)
        scores = summarize(rows)
        lines.append(f"| {split} | {scores.sentences} | {scores.attributed} | {scores.precision:.3f} | "
                     f"{scores.recall:.3f} | {scores.f1:.3f} | {scores.accuracy:.3f} |")
        if split == "test":
            errors = [r for r in rows if not r.right]
    sentences = [s["t"] for a in gold for s in a["sentences"]] * 20
    started = time.perf_counter()
    from pipeline.holders import find_holders
    find_holders(sentences, "Bench Wire", dictionary)
    per_thousand = (time.perf_counter() - started) / len(sentences) * 1000
    lines += ["", f"Speed: {per_thousand:.2f} s per 1,000 sentences (one core, {len(sentences)} sentences).",
              "", "## Errors on the test half", "",
              "| article | gold | rules | sentence |", "|---|---|---|---|"]
    lines += [f"| {r.article} | {r.gold} | {r.predicted} | {r.text} |" for r in errors]
    text = "\n".join(lines) + "\n"
    print(text)
    write_text(args.out, text)


if __name__ == "__main__":
    main()
