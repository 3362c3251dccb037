# Over 400 lines: one script that converts, times and compares every encoder variant end to end.
"""Faster variants of the default ``e5`` encoder (issue 12 item 2): throughput and agreement with fp32.

Every variant runs inside the same ``SentenceTransformerEmbeddings`` object that ``make_embeddings("e5")``
returns (same tokenizer, ``query: ``/``passage: `` prompts, batch size, mean pooling, normalisation):
only the transformer under sentence-transformers' ``Transformer`` module is swapped. So "throughput" is
what ingest would see per chunk, tokenisation included, and "cosine" compares the vectors ingest and
retrieval would store and query with.

Variants (``--variants``, default all):

- ``fp32``: the default, torch fp32 (the reference for every ratio and cosine).
- ``torch-int8``: ``torch.ao.quantization.quantize_dynamic`` on the ``nn.Linear`` layers as documented
  (per-tensor int8 weights; on x86 torch quantises activations to 7 bits, ``reduce_range=True``).
- ``torch-int8-pc``: per-channel int8 weights and full 8-bit activations (``reduce_range=False``; the
  fbgemm kernels cannot saturate on CPUs with AVX512-VNNI/AVX-VNNI, see the printed CPU flags).
- ``torch-int8-pc-mixed``: as ``torch-int8-pc`` with the feed-forward output layer of layers
  ``--keep-fp32`` (default 0,4,5) left in fp32: the three layers whose quantisation moved vectors
  most when each was quantised alone, measured on the repo's ``samples/`` articles (not on dev data).
- ``ort-fp32``: the model exported to ONNX (``torch.onnx.export``) on onnxruntime.
- ``ort-int8``: that ONNX file through ``onnxruntime.quantization.quantize_dynamic`` (per-channel int8
  weights for MatMul and the embedding Gather, uint8 dynamic activations).
- ``ort-int8-mixed``: as ``ort-int8`` with the same ``--keep-fp32`` layers' FFN-output MatMuls excluded.
- ``torch-bf16``: a bfloat16 copy of the model (fast only on CPUs with AVX512-BF16 or AMX).
- ``ov-f32`` / ``ov-bf16``: the model converted straight from torch to OpenVINO IR (``openvino.convert_model``,
  fp32 weights), run with inference precision f32 / bf16 (bf16 is OpenVINO's own default on CPUs that
  have it; elsewhere it falls back to f32, the notes column says which ran).
- ``ov-int8w`` / ``ov-int8w-bf16``: that IR with int8 weights (``nncf.compress_weights``, INT8_ASYM per
  output channel); the CPU plugin then quantises activations on the fly in groups (its
  ``DYNAMIC_QUANTIZATION_GROUP_SIZE``, printed) and multiplies in int8; precision f32 / bf16 elsewhere.

Variants ``*-mixed`` and ``ort-fp32`` are not run unless asked for. OpenVINO's converter and nncf
send usage statistics unless the user opted out; this script switches that off before importing them.

sentence-transformers' own ``backend="onnx"`` / ``"openvino"`` loaders need ``optimum-onnx`` /
``optimum-intel``, which cannot be installed next to sentence-transformers 6 (they require
transformers < 4.58 / < 5.6); the ``ort-*`` and ``ov-*`` variants therefore convert with torch,
onnxruntime, openvino and nncf directly (onnxruntime already comes with chromadb; ONNX export and
quantisation need ``onnx``; the ``ov-*`` variants need ``openvino``, the int8 ones also ``nncf``).
A variant whose package is missing is skipped with a note. Converted files are kept in ``--cache``
(default: ``encoder-variants/<e5 folder name>`` in the model cache) and reused; the one-time
conversion time is printed when it happens.

Data (test data: read from ``../shared/eval``, never copied): the chunks of the arcd-dev, mlqa-dev and
coqa-news-dev corpora, cut by the project's loader and chunker with the default chunk settings, and
``--n`` of them sampled evenly across the three sets (seeded, deterministic); queries are
``--queries`` questions from the sets' ``questions.jsonl`` sampled the same way. Timing: ``--rounds``
rounds, each encoding all sampled chunks with every variant (order rotated per round, one warm-up
each first); the ratio is fp32 time / variant time within each round, median over rounds, so other
load on the machine hits both sides of a ratio alike.

    .venv/bin/python benchmarks/bench_encoder_variants.py                      # 600 chunks, 3 rounds
    .venv/bin/python benchmarks/bench_encoder_variants.py --variants fp32,ort-int8 --n 120 --rounds 2
    .venv/bin/python benchmarks/bench_encoder_variants.py --rss                # + memory, one process per variant
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.embeddings.openvino_encoder import import_openvino  # noqa: E402  (openvino with telemetry off)
from ingest.errors import ConfigError  # noqa: E402

SHARED_EVAL = REPO.parent / "shared" / "eval"
SETS = ("arcd-dev", "mlqa-dev", "coqa-news-dev")
VARIANTS = (
    "fp32", "torch-int8", "torch-int8-pc", "torch-int8-pc-mixed", "torch-bf16",
    "ort-fp32", "ort-int8", "ort-int8-mixed",
    "ov-f32", "ov-bf16", "ov-int8w", "ov-int8w-bf16",
)  # fmt: skip
DEFAULT_VARIANTS = (
    "fp32",
    "torch-int8",
    "torch-int8-pc",
    "torch-bf16",
    "ort-int8",
    "ov-f32",
    "ov-bf16",
    "ov-int8w",
    "ov-int8w-bf16",
)
VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


# --------------------------------------------------------------------------- data


def load_chunks(eval_dir: Path, n: int, seed: int) -> tuple[list[str], dict[str, int]]:
    """``n`` chunk texts, about ``n / 3`` from each set, and how many chunks each set has in all."""
    from bot.settings import Settings
    from ingest.chunking import chunk_article
    from ingest.loaders.files import load_file

    settings = Settings()
    per_set: dict[str, list[str]] = {}
    for name in SETS:
        texts: list[str] = []
        for path in sorted((eval_dir / name / "corpus").iterdir()):
            for article in load_file(path, max_bytes=50 * 2**20):
                chunks = chunk_article(
                    article, size=settings.chunk_size, max_size=settings.chunk_max, overlap=settings.chunk_overlap
                )
                texts += [c.text for c in chunks]
        per_set[name] = texts
    return _even_sample(per_set, n, seed), {k: len(v) for k, v in per_set.items()}


def load_questions(eval_dir: Path, n: int, seed: int) -> list[str]:
    per_set = {}
    for name in SETS:
        lines = (eval_dir / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        per_set[name] = [json.loads(line)["question"] for line in lines if line.strip()]
    return _even_sample(per_set, n, seed)


def _even_sample(per_set: dict[str, list[str]], n: int, seed: int) -> list[str]:
    """``n`` items, as evenly over the sets as their sizes allow (a small set's shortfall goes to the
    others), each set's picks in their original order."""
    rng = random.Random(seed)
    names = sorted(per_set)
    quota = dict.fromkeys(names, 0)
    left = min(n, sum(len(v) for v in per_set.values()))
    while left:
        open_sets = [k for k in names if quota[k] < len(per_set[k])]
        for i, name in enumerate(open_sets):
            share = left // len(open_sets) + (1 if i < left % len(open_sets) else 0)
            quota[name] += min(share, len(per_set[name]) - quota[name])
        left = min(n, sum(len(v) for v in per_set.values())) - sum(quota.values())
    out: list[str] = []
    for name in names:
        items = per_set[name]
        out += [items[j] for j in sorted(rng.sample(range(len(items)), quota[name]))]
    return out


# --------------------------------------------------------------------------- variants


def _ffn_out_names(layers: list[int]) -> set[str]:
    return {f"encoder.layer.{i}.output.dense" for i in layers}


def torch_int8(base: Any, *, per_channel: bool, full_range: bool, keep_fp32: list[int]) -> Any:
    """``base`` (a BertModel) with its Linear layers dynamically quantised to int8 (a copy)."""
    import torch
    import torch.ao.nn.quantized.dynamic as nnqd
    from torch.ao.quantization import (
        default_dynamic_qconfig,
        per_channel_dynamic_qconfig,
        quantize_dynamic,
    )

    class FullRangeDynamicLinear(nnqd.Linear):
        """torch's dynamic Linear quantises activations to 7 bits on x86 (``reduce_range=True``
        hard-coded); this one uses all 8."""

        def forward(self, x: Any) -> Any:
            y = torch.ops.quantized.linear_dynamic(x, self._packed_params._packed_params, reduce_range=False)
            return y.to(x.dtype)

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    skip = _ffn_out_names(keep_fp32)
    spec = {name: qconfig for name, mod in base.named_modules() if isinstance(mod, torch.nn.Linear) and name not in skip}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice (-> torchao)
        model = quantize_dynamic(copy.deepcopy(base), spec)
    if full_range:
        for mod in model.modules():
            if type(mod) is nnqd.Linear:
                mod.__class__ = FullRangeDynamicLinear
    return model


class OrtTransformer:
    """Stands in for the BertModel under sentence-transformers' Transformer module: same inputs,
    ``last_hidden_state`` out, computed by an onnxruntime session."""

    def __init__(self, path: Path, config: Any, threads: int, spin: bool) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not spin:  # idle sessions must not burn the cores the variant being timed needs
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.config = config

    def forward(self, input_ids: Any, attention_mask: Any = None, token_type_ids: Any = None, **_: Any) -> dict:
        import torch

        feeds = {
            "input_ids": input_ids,
            "attention_mask": attention_mask if attention_mask is not None else torch.ones_like(input_ids),
            "token_type_ids": token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids),
        }
        out = self.session.run(None, {k: feeds[k].cpu().numpy() for k in self.inputs})[0]
        return {"last_hidden_state": torch.from_numpy(out)}

    __call__ = forward


def _as_module(obj: Any) -> Any:
    """Wrap the ORT stand-in in an ``nn.Module`` so sentence-transformers can hold and call it."""
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner
            self.config = inner.config

        def forward(self, input_ids: Any, attention_mask: Any = None, token_type_ids: Any = None, **kw: Any) -> Any:
            return self.inner.forward(input_ids, attention_mask, token_type_ids, **kw)

    return Wrapper(obj)


def _atomic_write(target: Path, write: Any) -> float:
    """Run ``write(tmp_path)`` and rename into ``target``; return the seconds it took."""
    t0 = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return time.perf_counter() - t0


def export_onnx(base: Any, target: Path) -> float | None:
    """Export the fp32 BertModel to ``target`` unless it is there; seconds taken, or None if cached."""
    if target.is_file():
        return None
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.m = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {k: {0: "batch", 1: "tokens"} for k in [*names, "last_hidden_state"]}

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden(base).eval(), (ids, ids, torch.zeros_like(ids)), str(tmp), input_names=names,
                output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
            )  # fmt: skip

    return _atomic_write(target, write)


def quantize_onnx(source: Path, target: Path, keep_fp32: list[int]) -> float | None:
    if target.is_file():
        return None
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    exclude = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and any(f"/layer.{i}/output/dense/" in node.name for i in keep_fp32)
    ]
    if len(exclude) != len(keep_fp32):
        raise SystemExit(f"expected {len(keep_fp32)} FFN-output MatMuls to exclude, found {exclude}")

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=exclude)

    return _atomic_write(target, write)


def torch_bf16(base: Any) -> Any:
    """A bfloat16 copy of ``base``; its output is cast back to float32 for pooling."""
    import torch

    class Bf16(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.m = model
            self.config = model.config

        def forward(self, **kw: Any) -> dict:
            return {"last_hidden_state": self.m(**kw).last_hidden_state.float()}

    return Bf16(copy.deepcopy(base).to(torch.bfloat16))


def export_openvino(base: Any, folder: Path, int8_weights: bool) -> float | None:
    """OpenVINO IR of the fp32 model (fp32 weights), or with int8 weights (nncf ``compress_weights``,
    INT8_ASYM per output channel), converted straight from torch into ``folder``; None if cached."""
    if (folder / "model.xml").is_file():
        return None
    import torch

    ov = import_openvino()
    if int8_weights:
        import nncf  # after import_openvino(): nncf binds the telemetry class when imported

    class Hidden(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.m = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    t0 = time.perf_counter()
    ids = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ov.convert_model(
            Hidden(base).eval(),
            example_input={"input_ids": ids, "attention_mask": ids, "token_type_ids": torch.zeros_like(ids)},
            input=[(n, [-1, -1], ov.Type.i64) for n in names],
        )
        if int8_weights:
            model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    return time.perf_counter() - t0


class OpenVinoTransformer(OrtTransformer):
    """As ``OrtTransformer``, on an OpenVINO compiled model."""

    def __init__(self, path: Path, config: Any, threads: int, precision: str) -> None:
        ov = import_openvino()
        cfg = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        self.compiled = ov.Core().compile_model(str(path), "CPU", cfg)
        self.inputs = [i.get_any_name() for i in self.compiled.inputs]
        self.config = config
        hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        self.precision = hint.to_string() if hasattr(hint, "to_string") else str(hint)
        try:
            self.dyn_quant = int(self.compiled.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE"))
        except (RuntimeError, TypeError, ValueError):  # not reported by this plugin version
            self.dyn_quant = -1

    def forward(self, input_ids: Any, attention_mask: Any = None, token_type_ids: Any = None, **_: Any) -> dict:
        import torch

        feeds = {
            "input_ids": input_ids,
            "attention_mask": attention_mask if attention_mask is not None else torch.ones_like(input_ids),
            "token_type_ids": token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids),
        }
        out = self.compiled({k: feeds[k].cpu().numpy() for k in self.inputs})[0]
        return {"last_hidden_state": torch.from_numpy(np.asarray(out))}

    __call__ = forward


def _folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.parent.glob(path.stem + ".*")) / 2**20


def build_variant(name: str, base: Any, args: argparse.Namespace) -> tuple[Any, float, str]:
    """(model to put under the Transformer module, seconds to make it from cached files, note)."""
    keep = args.keep_fp32
    t0 = time.perf_counter()
    if name == "fp32":
        return base, 0.0, "torch"
    if name == "torch-bf16":
        return torch_bf16(base), time.perf_counter() - t0, "bf16 copy at load"
    if name.startswith("ov-"):
        int8w = name.startswith("ov-int8w")
        folder = args.cache / ("openvino-int8w" if int8w else "openvino")
        took = export_openvino(base, folder, int8w)
        t0 = time.perf_counter()
        inner = OpenVinoTransformer(folder / "model.xml", base.config, args.threads, "bf16" if name.endswith("bf16") else "f32")
        secs = time.perf_counter() - t0
        note = [f"one-time conversion {took:.0f} s"] if took is not None else []
        note.append(
            f"precision {inner.precision}, dyn.quant group {inner.dyn_quant}, {_folder_mib(folder / 'model.xml'):.0f} MiB IR"
        )
        return _as_module(inner), secs, ", ".join(note)
    if name.startswith("torch-"):
        per_channel = name != "torch-int8"
        model = torch_int8(base, per_channel=per_channel, full_range=per_channel, keep_fp32=keep if "mixed" in name else [])
        return model, time.perf_counter() - t0, "quantised at load"
    onnx_fp32 = args.cache / "model.onnx"
    note = []
    took = export_onnx(base, onnx_fp32)
    if took is not None:
        note.append(f"one-time export {took:.0f} s")
    path = onnx_fp32
    if name != "ort-fp32":
        layers = keep if "mixed" in name else []
        path = args.cache / f"model_int8_pc{'_keep' + '-'.join(map(str, layers)) if layers else ''}.onnx"
        took = quantize_onnx(onnx_fp32, path, layers)
        if took is not None:
            note.append(f"one-time quantisation {took:.0f} s")
    t0 = time.perf_counter()
    model = _as_module(OrtTransformer(path, base.config, args.threads, args.ort_spin))
    note.append(f"{path.stat().st_size / 2**20:.0f} MiB file")
    return model, time.perf_counter() - t0, ", ".join(note)


# --------------------------------------------------------------------------- measuring


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return [f for f in VNNI_FLAGS if f in flags]


def _cos_stats(ref: np.ndarray, vec: np.ndarray) -> tuple[float, float]:
    cos = np.sum(ref * vec, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(vec, axis=1))
    return float(cos.mean()), float(cos.min())


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MiB, from /proc."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def rss_worker(args: argparse.Namespace) -> None:
    """One variant alone in this process: its resident memory after encoding some chunks."""
    from ingest.embeddings.factory import make_embeddings

    chunks, _ = load_chunks(args.eval_dir, 64, args.seed)
    emb = make_embeddings("e5", model_dir=args.model_dir, batch_size=args.batch_size, threads=args.threads)
    transformer = emb._model[0]
    model, _, _ = build_variant(args.rss_worker, transformer.model, args)
    transformer.model = model
    del model
    gc.collect()
    emb.embed_documents_array(chunks)
    rss, peak = _rss_mb()
    print(json.dumps({"rss_mb": rss, "peak_mb": peak, "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--n", type=int, default=600, help="chunks, spread evenly over the three sets (default 600)")
    parser.add_argument("--queries", type=int, default=300, help="questions for the query cosines (default 300)")
    parser.add_argument("--spans", type=int, default=96, help="chunks whose sentence vectors (late chunking) are compared")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds over all chunks (default 3)")
    parser.add_argument("--block", type=int, default=100, help="chunks per timed block (default 100)")
    parser.add_argument("--ort-spin", action="store_true", help="let onnxruntime's threads spin-wait (its default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-fp32", default="0,4,5", help="layers whose FFN output stays fp32 in the *-mixed variants")
    parser.add_argument("--eval-dir", type=Path, default=SHARED_EVAL)
    parser.add_argument("--model-dir", type=Path, default=None, help="model cache (default: the app's)")
    parser.add_argument("--cache", type=Path, default=None, help="where converted ONNX files are kept")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rss", action="store_true", help="also measure each variant's memory in its own process")
    parser.add_argument("--rss-worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.keep_fp32 = [int(x) for x in args.keep_fp32.split(",") if x.strip()]
    if args.model_dir is None:
        from bot.settings import Settings

        args.model_dir = Settings().model_dir
    from ingest.embeddings.e5_convert import ensure_e5_model

    folder = ensure_e5_model(args.model_dir)
    if args.cache is None:
        args.cache = args.model_dir / "encoder-variants" / folder.name
    if args.rss_worker:
        rss_worker(args)
        return

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants: {', '.join(unknown)}")
    if "fp32" not in variants:
        variants.insert(0, "fp32")

    from ingest.embeddings.factory import make_embeddings
    from ingest.text.sentences import evidence_spans

    chunks, totals = load_chunks(args.eval_dir, args.n, args.seed)
    queries = load_questions(args.eval_dir, args.queries, args.seed)
    print(f"data: {len(chunks)} of {sum(totals.values())} chunks ({', '.join(f'{k} {v}' for k, v in totals.items())}),"
          f" mean {np.mean([len(c) for c in chunks]):.0f} chars, seed {args.seed}; {len(queries)} questions;"
          f" from {args.eval_dir}")  # fmt: skip
    print(f"batch size {args.batch_size}, {args.threads} threads, CPU int8 dot-product flags: {cpu_flags() or 'none'}")
    load1 = os.getloadavg()[0]
    print(f"load average {load1:.1f} on {os.cpu_count()} cores at start")

    t0 = time.perf_counter()
    emb = make_embeddings("e5", model_dir=args.model_dir, batch_size=args.batch_size, threads=args.threads)
    fp32_load = time.perf_counter() - t0
    transformer = emb._model[0]
    base = transformer.model

    built: dict[str, Any] = {}
    info: dict[str, dict[str, Any]] = {}
    for name in variants:
        try:
            model, secs, note = build_variant(name, base, args)
        except (ImportError, ConfigError) as err:  # a package of the variant is not installed
            print(f"{name}: skipped ({err})")
            continue
        built[name] = model
        info[name] = {"load_s": fp32_load + secs if name == "fp32" else secs, "note": note}

    def use(name: str) -> None:
        transformer.model = built[name]

    # quality (untimed): passages, queries, sentence vectors pooled from the passage pass
    vecs: dict[str, dict[str, Any]] = {}
    span_texts = chunks[:: max(1, len(chunks) // max(1, args.spans))][: args.spans]  # spread over the sets
    spans = [evidence_spans(t) for t in span_texts]
    for name in built:
        use(name)
        _, span_vecs = emb.embed_documents_with_spans(span_texts, spans)
        vecs[name] = {
            "warm-up": emb.embed_documents_array(chunks[:8]),
            "queries": emb.embed_query_array(queries),
            "spans": np.concatenate(span_vecs) if span_vecs else np.zeros((0, emb.dim), np.float32),
        }

    # Timing: the chunks in blocks of --block; each block is encoded by every variant in turn (order
    # rotated from block to block), so a burst of other work on the machine hits every variant alike.
    blocks = [chunks[i : i + args.block] for i in range(0, len(chunks), args.block)]
    order = list(built)
    wall: dict[str, list[list[float]]] = {name: [] for name in built}  # [round][block] seconds
    cpu: dict[str, list[list[float]]] = {name: [] for name in built}
    passages: dict[str, list[np.ndarray]] = {name: [] for name in built}
    step = 0
    for r in range(args.rounds):
        for name in order:
            wall[name].append([])
            cpu[name].append([])
        for block in blocks:
            rotated = order[step % len(order) :] + order[: step % len(order)]
            step += 1
            for name in rotated:
                use(name)
                t0, c0 = time.perf_counter(), time.process_time()
                out = emb.embed_documents_array(block)
                wall[name][r].append(time.perf_counter() - t0)
                cpu[name][r].append(time.process_time() - c0)
                if r == 0:  # the passage vectors compared below
                    passages[name].append(out)
        print(f"round {r + 1}: " + ", ".join(f"{n} {len(chunks) / sum(wall[n][r]):.1f}/s" for n in order), flush=True)
    for name in order:
        vecs[name]["passages"] = np.concatenate(passages[name])
    use("fp32")

    rss: dict[str, dict[str, float]] = {}
    if args.rss:
        for name in built:
            cmd = [sys.executable, __file__, "--rss-worker", name, "--model-dir", str(args.model_dir),
                   "--cache", str(args.cache), "--eval-dir", str(args.eval_dir), "--threads", str(args.threads),
                   "--keep-fp32", ",".join(map(str, args.keep_fp32)), "--seed", str(args.seed)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            rss[name] = json.loads(lines[-1]) if lines else {}

    ref = vecs["fp32"]
    print()
    print(f"{'variant':20s} {'chunks/s':>8s} {'x fp32':>6s} {'rounds':>11s} {'cpu x':>5s}  {'passage cos':>13s}"
          f"  {'query cos':>13s}  {'sentence cos':>13s}  {'load s':>6s}  {'RSS MiB':>7s}  notes")  # fmt: skip
    for name in built:
        per_round = [sum(w) for w in wall[name]]
        block_ratios = [f / v for fr, vr in zip(wall["fp32"], wall[name]) for f, v in zip(fr, vr)]
        round_ratios = [sum(fr) / sum(vr) for fr, vr in zip(wall["fp32"], wall[name])]
        cpu_ratio = sum(map(sum, cpu["fp32"])) / sum(map(sum, cpu[name]))
        cells = [_cos_stats(ref[k], vecs[name][k]) for k in ("passages", "queries", "spans")]
        mem = f"{rss[name]['rss_mb']:.0f}" if rss.get(name) else "-"
        print(f"{name:20s} {len(chunks) / statistics.median(per_round):8.1f} {statistics.median(block_ratios):6.2f}"
              f" {min(round_ratios):5.2f}-{max(round_ratios):<5.2f} {cpu_ratio:5.2f}  "
              + "  ".join(f"{m:.4f}/{lo:.4f}" for m, lo in cells)
              + f"  {info[name]['load_s']:6.1f}  {mem:>7s}  {info[name]['note']}")  # fmt: skip
    print(f"\nchunks/s: median over rounds; 'x fp32': median over every (round, block) of fp32 seconds / variant"
          f" seconds on the same {args.block} chunks back to back; 'rounds': that ratio per whole round, min-max;"
          " 'cpu x': the same from process CPU time, all rounds (torch's OpenMP threads spin-wait, which counts);"
          " cos columns: mean/min cosine to fp32 (passages: all sampled chunks; queries: 'query: ' + question;"
          f" sentence: the evidence-sentence vectors pooled from the passage pass of {len(span_texts)} chunks);"
          " load s: fp32 = loading the e5 folder, others = extra seconds to make the variant from it and the"
          " cached files; RSS: resident MiB after encoding 64 chunks, one process per variant (the ort-*/ov-*"
          " ones loaded the torch weights first, then dropped them)")  # fmt: skip


if __name__ == "__main__":
    main()
