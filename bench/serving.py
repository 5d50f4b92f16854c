"""Load check of the REST endpoint: the trained model (models/stance_model.skops) logged to a scratch
MLflow store, served by the real `mlflow models serve` on loopback, and posted to by concurrent clients.

    python bench/serving.py [--requests 1000] [--batch 32] [--clients 4]

Prints throughput (sentences/s), p50/p99 latency per request, and the failed requests (expected: none).
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.scoring import DEFAULT_MODEL  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402
from tests.e2e.conftest import model_server, register_model  # noqa: E402


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32, help="sentences per request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    args = parser.parse_args()
    if not (ROOT / DEFAULT_MODEL).is_file():
        print(f"skipped: {DEFAULT_MODEL} not found (run `make repro` first)")
        return
    corpus = pd.read_csv(ROOT / "data/raw/sentences.csv")["text"].tolist()
    rng = np.random.default_rng(0)
    bodies = [{"dataframe_split": {"columns": ["text"], "data": [[text] for text in batch]}}
              for batch in (rng.choice(corpus, args.batch) for _ in range(args.requests))]
    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch)
        uri = register_model(ROOT / DEFAULT_MODEL, store)
        with model_server(store, uri) as url:

            def post(body: dict) -> tuple[float, bool]:
                start = time.perf_counter()
                try:
                    ok = requests.post(f"{url}/invocations", json=body, timeout=300).status_code == 200
                except requests.RequestException:
                    ok = False
                return time.perf_counter() - start, ok

            post(bodies[0])  # the first request warms the model up; it is not counted
            start = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(post, bodies))
            seconds = time.perf_counter() - start
    latencies = np.array([latency for latency, _ in results])
    failed = sum(not ok for _, ok in results)
    print(f"{args.requests} requests of {args.batch} sentences from {args.clients} clients in "
          f"{seconds:.1f} s: {args.requests * args.batch / seconds:,.0f} sentences/s, "
          f"{args.requests / seconds:.1f} requests/s")
    print(f"latency per request: p50 {np.percentile(latencies, 50):.3f} s, "
          f"p99 {np.percentile(latencies, 99):.3f} s; failed requests: {failed}")


if __name__ == "__main__":
    main()
