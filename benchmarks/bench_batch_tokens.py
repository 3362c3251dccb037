"""How many texts the bundled e5 encoder (sentence-transformers on torch) should take per forward pass.

sentence-transformers cuts a fixed number of texts per pass (32 by default). On a CPU a pass costs
more per token as its padded size (texts x longest text) grows, so the embedder can instead fill
each pass up to a budget of padded tokens (``SentenceTransformerEmbeddings.batch_tokens``, the
setting ``embed_batch_tokens``). This script times each budget against today's fixed batch of 32
on three kinds of text and picks the budget whose *worst* kind gains most (the same rule as the
other fits: a setting that speeds one kind and slows another is not taken):

- ``chunks (bench)``: chunks of the synthetic articles ``newsbot bench`` ingests (generated, always
  there), embedded as ingest embeds them: ``embed_documents_with_spans`` (the passage vector and
  its sentences' vectors from one pass) on ``--call`` chunks at a time, as many as ingest embeds
  in one call (it gathers 256 chunks before embedding);
- ``chunks (dev)``: chunks of the dev corpora in ``../shared/eval`` (test data, read from there,
  skipped when absent), the same way;
- ``sentences``: the sentences of those chunks (``embed_documents``), ``--call-sentences`` at a
  time (about the sentences of one question's five passages), as sentences are embedded at
  question time when the ingest embedder answers (``query_encoder = "embedder"``) and for spans
  late chunking cannot pool.

How many texts go in one call matters: sentence-transformers sorts a call's texts by length
before cutting its batches of 32, so the more texts a call holds, the less padding a fixed batch
carries (a 57-chunk call gained 1.8x from the budget, a 253-chunk one ~1.3x).

Timing: ``--rounds`` rounds; in each, every variant encodes the same texts (order rotated per
round, one warm-up pass first). The speed-up is the batch-32 time / the variant's time within one
round, median over rounds, so other load on the machine hits both sides of a ratio alike. Vectors
are compared with batch 32 too (padding must not change them).

    .venv/bin/python benchmarks/bench_batch_tokens.py                  # 2 rounds, 256 chunks a kind
    .venv/bin/python benchmarks/bench_batch_tokens.py --budgets 512,1024 --rounds 2
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_encoder_variants import SETS as DEV_SETS
from bench_encoder_variants import load_chunks

from bot.measure.bench.corpus import SyntheticNews, article_file_text
from bot.measure.bench.runner import CORPUS_FORMAT
from bot.settings import Settings
from ingest.chunking import chunk_article
from ingest.embeddings.factory import make_embeddings
from ingest.loaders.files import load_file
from ingest.text.sentences import evidence_spans

SHARED_EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
REFERENCE = "batch 32"


def chunks_of(paths: list[Path]) -> list[str]:
    options = Settings().chunking()
    out: list[str] = []
    for path in paths:
        for article in load_file(path, max_bytes=50 * 2**20):
            out += [c.text for c in chunk_article(article, **asdict(options))]
    return out


def bench_chunks(n: int, seed: int) -> list[str]:
    news = SyntheticNews(seed=CORPUS_FORMAT)
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    paths = []
    for i in range(max(1, n // 3)):  # ~4 chunks an article: enough to sample n from
        a = news.article(100_000_000 + i)  # the articles `newsbot bench` ingests
        paths.append(folder / f"{a.id}.txt")
        paths[-1].write_text(article_file_text(a), encoding="utf-8")
    texts = chunks_of(paths)
    return random.Random(seed).sample(texts, min(n, len(texts)))


def sentences_of(chunks: list[str], n: int, seed: int) -> list[str]:
    sents = [c[s:e] for c in chunks for s, e in evidence_spans(c)]
    return random.Random(seed).sample(sents, min(n, len(sents)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", default="256,512,1024,2048", help="padded tokens per pass to try")
    ap.add_argument("--chunks", type=int, default=256, help="chunks of each kind (default 256)")
    ap.add_argument("--call", type=int, default=256, help="chunks per embedding call (default 256, as ingest)")
    ap.add_argument("--sentences", type=int, default=200, help="sentences (default 200)")
    ap.add_argument("--call-sentences", type=int, default=40, help="sentences per embedding call (default 40)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-dir", type=Path, default=SHARED_EVAL)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    emb = make_embeddings("e5", model_dir=Settings().model_dir, batch_size=32, threads=args.threads)
    kinds: dict[str, list[str]] = {"chunks (bench)": bench_chunks(args.chunks, args.seed)}
    if (args.eval_dir / DEV_SETS[0] / "corpus").is_dir():
        kinds["chunks (dev)"] = load_chunks(args.eval_dir, args.chunks, args.seed)[0]
    else:
        print(f"(no dev corpora at {args.eval_dir}: chunks (dev) skipped; sentences come from the bench chunks)")
    kinds["sentences"] = sentences_of(kinds.get("chunks (dev)") or kinds["chunks (bench)"], args.sentences, args.seed)

    # name -> (batch_size, batch_tokens)
    variants = {REFERENCE: (32, 0)}
    variants |= {f"{b} tokens": (32, b) for b in (int(x) for x in args.budgets.split(","))}
    names = list(variants)

    def run(name: str, texts: list[str], spans: bool) -> tuple[float, np.ndarray]:
        emb.batch_size, emb.batch_tokens = variants[name]
        call = args.call if spans else args.call_sentences
        parts = []
        t = time.perf_counter()
        for i in range(0, len(texts), call):
            part = texts[i : i + call]
            if spans:
                parts.append(emb.embed_documents_with_spans(part, [evidence_spans(x) for x in part])[0])
            else:
                parts.append(emb.embed_documents_array(part))
        return time.perf_counter() - t, np.concatenate(parts)

    tok = emb._model.tokenizer
    for kind, texts in kinds.items():
        lengths = [len(ids) for ids in tok(texts, truncation=True, max_length=512)["input_ids"]]
        print(f"{kind}: {len(texts)} texts, {statistics.median(lengths):.0f} tokens median, {max(lengths)} max")
    run(REFERENCE, kinds["sentences"][:16], False)  # warm-up
    ratios: dict[str, dict[str, list[float]]] = {k: {n: [] for n in names} for k in kinds}
    worst_cos: dict[str, float] = dict.fromkeys(names, 1.0)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for kind, texts in kinds.items():
            spans = kind.startswith("chunks")
            times: dict[str, float] = {}
            vecs: dict[str, np.ndarray] = {}
            for name in order:
                times[name], vecs[name] = run(name, texts, spans)
            for name in names:
                ratios[kind][name].append(times[REFERENCE] / times[name])
                cos = float(np.min(np.sum(vecs[name] * vecs[REFERENCE], axis=1)))
                worst_cos[name] = min(worst_cos[name], cos)
            print(f"round {r + 1}, {kind}: " + ", ".join(f"{n} {times[n]:.1f}s" for n in names), flush=True)

    print()
    print("speed-up against a fixed batch of 32 (median over rounds; > 1 is faster)")
    print(f"{'variant':<14}" + "".join(f"{k:>17}" for k in kinds) + f"{'worst':>10}{'min cos':>10}")
    best, best_worst = REFERENCE, 1.0
    for name in names:
        med = {k: statistics.median(ratios[k][name]) for k in kinds}
        worst = min(med.values())
        print(f"{name:<14}" + "".join(f"{med[k]:>17.3f}" for k in kinds) + f"{worst:>10.3f}{worst_cos[name]:>10.6f}")
        if name.endswith("tokens") and worst > best_worst:
            best, best_worst = name, worst
    print()
    print(f"chosen (best worst-kind speed-up among the budgets): {best} ({best_worst:.3f}x)")


if __name__ == "__main__":
    main()
