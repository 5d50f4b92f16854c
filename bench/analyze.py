"""Scale of `stance analyze`: time and peak memory on a large collection.

    python bench/analyze.py [--articles 2000] [--model models/stance_model.skops]

The collection is the example's 32 articles (examples/collection), repeated under new doc_ids into one
.jsonl file until it has --articles rows: the text is realistic, only its amount changes. Prints the wall
time, articles and sentences per second, and the peak resident memory of this process, for the full
collection and for a tenth of it (memory that does not grow with the collection is the point).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analysis import analyze  # noqa: E402
from pipeline.collection import Article, read_collection  # noqa: E402
from pipeline.scoring import load_model, split_sentences  # noqa: E402

EXAMPLE = ROOT / "examples" / "collection"


def write_collection(path: Path, articles: int) -> None:
    seed = [a for a in read_collection([str(EXAMPLE)]) if isinstance(a, Article)]
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(articles):
            article = seed[number % len(seed)]
            handle.write(json.dumps({"doc_id": f"{article.doc_id}-{number}", "text": article.text,
                                     "title": article.title, "date": article.date.isoformat(),
                                     "source": article.source, "target": article.target}) + "\n")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--model", default=str(ROOT / "models" / "stance_model.skops"))
    args = parser.parse_args()
    model = load_model(args.model)
    print(f"model loaded: peak {peak_mib():.0f} MiB")
    with tempfile.TemporaryDirectory() as folder:
        for articles in (args.articles // 10, args.articles):
            path = Path(folder) / f"collection-{articles}.jsonl"
            write_collection(path, articles)
            started = time.perf_counter()
            result = analyze([str(path)], model=model, actors=[str(EXAMPLE / "actors.yaml")], progress=False)
            seconds = time.perf_counter() - started
            sentences = sum(len(split_sentences(a.text)) for a in read_collection([str(path)])
                            if isinstance(a, Article))
            print(f"{articles} articles, {sentences} sentences ({result.articles} analysed, "
                  f"{len(result.statements)} statements): {seconds:.1f} s, {articles / seconds:.1f} "
                  f"articles/s, {sentences / seconds:.0f} sentences/s; peak {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
