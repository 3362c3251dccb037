"""A tiny llama-architecture GGUF model with random weights, written at test time.

No model file can be downloaded in the test environment, so tests that need a real llama.cpp
server build one here with the ``gguf`` package: 2 layers, 64-dim embeddings, 4 heads, an SPM
("llama") tokenizer of <unk>/<s>/</s>, the ChatML control tokens, the 256 byte tokens
<0x00>..<0xFF> (byte fallback: any text, Arabic included, tokenizes) and a few plain words.

Answer quality does not matter, but the output should be well-behaved text: the output matrix
gives every token a zero row except the plain words, which come in (w, -w) pairs. For any
hidden state one of each pair scores >= 0, so greedy decoding (temperature 0, as newsbot asks)
only ever picks a plain ASCII word: never a lone UTF-8 byte, and never </s>, so the model runs
on until the token budget (``max_tokens``) or the server's ``n_predict`` stops it.

Run as a script to serve a model with xllamacpp (used by tests/test_llamacpp_server.py)::

    python tests/tiny_gguf.py serve MODEL.gguf PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

N_LAYERS = 2
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 4
N_FF = 128
N_CTX = 4096  # byte-level tokens: a prompt with a few passages is ~1-2k tokens
HEAD_DIM = N_EMBD // N_HEAD

#: Plain tokens the model may write (SPM style: "▁" is a leading space). Even count: (w, -w) pairs.
WORDS = [
    "▁the",
    "▁plant",
    "▁water",
    "▁news",
    "▁city",
    "▁day",
    "▁opened",
    "▁club",
    "▁signed",
    "▁library",
    "▁new",
    "▁and",
    "▁of",
    "▁on",
    ".",
    ",",
]
#: The longest text one generated token can add to an answer.
MAX_TOKEN_CHARS = max(len(w) for w in WORDS)

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


#: The one word of the ``sentinel`` variant: newsbot's "cannot answer" sentinel (prompts/templates.py).
SENTINEL_WORD = "▁INSUFFICIENT_EVIDENCE"


def vocab(words: list[str] = WORDS) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types of the SPM vocabulary."""
    from gguf import TokenType

    tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    tokens += words
    types += [TokenType.NORMAL] * len(words)
    scores = [0.0] * (len(tokens) - len(words)) + [-float(i) for i in range(len(words))]
    return tokens, scores, [int(t) for t in types]


def write_tiny_llama(path: str | Path, *, seed: int = 0, sentinel: bool = False) -> Path:
    """Write the tiny model to ``path`` (float32 weights, fixed seed) and return the path.

    ``sentinel``: a variant that writes nothing but newsbot's "cannot answer" sentinel. Its
    layers add nothing to the residual stream (zero output projections), every token embedding
    has +1 in dimension 0, and only the sentinel's output row reads that dimension: after the
    final RMS norm it is positive whatever the prompt, so greedy decoding always picks it.
    """
    import gguf

    path = Path(path)
    words = [*WORDS, SENTINEL_WORD] if sentinel else WORDS
    tokens, scores, types = vocab(words)
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def rand(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("newsbot-tiny-random-llama")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYERS)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(n_vocab)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHATML)

    # numpy shapes are the reverse of ggml's ne order: (rows=out features, cols=in features)
    embeddings = rand(n_vocab, N_EMBD, scale=1.0)
    if sentinel:
        embeddings[:, 0] = 1.0
    writer.add_tensor("token_embd.weight", embeddings)
    for i in range(N_LAYERS):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", rand(N_HEAD * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_k.weight", rand(N_HEAD_KV * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_v.weight", rand(N_HEAD_KV * HEAD_DIM, N_EMBD))
        attn_out = rand(N_EMBD, N_HEAD * HEAD_DIM)
        writer.add_tensor(f"blk.{i}.attn_output.weight", attn_out * 0 if sentinel else attn_out)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", rand(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", rand(N_FF, N_EMBD))
        ffn_down = rand(N_EMBD, N_FF)
        writer.add_tensor(f"blk.{i}.ffn_down.weight", ffn_down * 0 if sentinel else ffn_down)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    if sentinel:
        output[n_vocab - 1, 0] = 10.0  # the sentinel, and nothing else, reads dimension 0
    else:
        first = n_vocab - len(WORDS)
        half = rand(len(WORDS) // 2, N_EMBD, scale=1.0)
        output[first::2] = half
        output[first + 1 :: 2] = -half
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def serve(model: str, port: int, *, threads: int = 1, n_predict: int = 256) -> None:
    """Serve ``model`` with llama.cpp's HTTP server (xllamacpp) on 127.0.0.1:``port`` until killed."""
    import time

    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.chat_template = "chatml"
    params.n_ctx = N_CTX
    params.n_predict = n_predict  # the server's own cap on an answer (a request may ask for fewer)
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.n_threads_http = 2
    params.warmup = False
    params.ui = False
    server = xlc.Server(params)
    print(f"listening on {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--sentinel":
        print(write_tiny_llama(sys.argv[2], sentinel=True))
    elif len(sys.argv) == 2:
        print(write_tiny_llama(sys.argv[1]))
    else:
        sys.exit("usage: tiny_gguf.py OUT.gguf | tiny_gguf.py serve MODEL.gguf PORT")
