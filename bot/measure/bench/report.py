"""The bench's goals and its report: every figure beside the limit it is judged against."""

from __future__ import annotations

from typing import Any

GOALS = {"ingest_ratio": 0.85, "query_ratio": 1.5, "serve_rss_mb": 1536.0}
QUERY_GOAL_SIZES = (10_000, 100_000)  # the question goal applies at these sizes


def goals_met(result: dict[str, Any]) -> dict[str, bool | None]:
    met: dict[str, bool | None] = {"ingest_ratio": result["ingest_ratio"] >= GOALS["ingest_ratio"]}
    for size, ratio in result["query_ratio"].items():
        if int(size) in QUERY_GOAL_SIZES:
            met[f"query_ratio@{size}"] = ratio <= GOALS["query_ratio"]
    rss = result.get("serve_rss_mb")
    met["serve_rss_mb"] = None if rss is None else rss <= GOALS["serve_rss_mb"]
    return met


def format_report(r: dict[str, Any]) -> list[str]:
    """The figures as text, each beside its limit."""

    def mark(ok: bool | None) -> str:
        return "" if ok is None else ("  ok" if ok else "  MISSED")

    met = r["met"]
    ing = r["ingest"]
    lines = [
        f"newsbot bench — embedder {r['embedder']}, answerer {r['answerer']}, k={r['k']}, {r['machine']['cpus']} CPUs",
        f"ingest      {ing['ingest_chunks_per_s']:.1f} chunks/s vs raw encode {ing['raw_chunks_per_s']:.1f} chunks/s "
        f"({ing['chunks']} chunks) = {r['ingest_ratio']:.2f}x   goal >= {GOALS['ingest_ratio']:.2f}x" + mark(met["ingest_ratio"]),
        f"            peak RSS {ing['ingest_peak_rss_mb']:.0f} MB ingesting, {ing['raw_peak_rss_mb']:.0f} MB raw encoding",
    ]
    peer = ing.get("peer") or {}
    if "articles_per_s" in peer:
        lines.append(
            f"            {ing['articles_per_s']:.2f} articles/s vs the plain LangChain pipeline {peer['articles_per_s']:.2f}"
            f" articles/s on the same files and model ({peer['chunks']} chunks of 1000/200) = {ing['vs_peer']:.2f}x"
        )
    if ing.get("encoder_speedup"):
        lines.append(
            f"            raw encode {ing['encoder_speedup']:.2f}x as fast as the same model batched as sentence-transformers"
            f" batches by default (32 texts a pass: {ing['raw_plain_encode_s']:.1f} s vs {ing['raw_encode_s']:.1f} s)"
        )
    if ing.get("rounds", 1) > 1:
        lines.append(
            f"            (each ingest figure: the median of {ing['rounds']} rounds, order rotated; each ratio: the median per-round ratio)"
        )
    for size, s in r["sizes"].items():
        goal = f"goal <= {GOALS['query_ratio']:.1f}x" if int(size) in QUERY_GOAL_SIZES else "(no goal)"
        lines.append(
            f"questions @{int(size):>7,} chunks  answer p50 {s['answer_p50_ms']:.0f} ms / p95 {s['answer_p95_ms']:.0f} ms"
            f" vs embed+query p50 {s['baseline_p50_ms']:.0f} ms / p95 {s['baseline_p95_ms']:.0f} ms"
            f" = {s['ratio_p50']:.2f}x   {goal}"
            + mark(met.get(f"query_ratio@{size}"))
            + f"   (keyword index: built {s['index_build_s']:.2f} s, loaded {s['index_load_s']:.2f} s;"
            f" {s['answered']}/{s['questions']} answered)"
        )
    sv = r["serve"]
    if "skipped" in sv:
        lines.append(f"serve       skipped: {sv['skipped']}")
    else:
        lines.append(
            f"serve       peak RSS {sv['peak_rss_mb']:.0f} MB after {sv['questions']} questions"
            f"   goal <= {GOALS['serve_rss_mb']:.0f} MB" + mark(met["serve_rss_mb"])
        )
        warm = sv.get("first_answer_warm_s")
        lines.append(
            f"serve       first answer {sv['first_answer_cold_s']:.1f} s after start without the keyword index file"
            + (f", {warm:.1f} s with it" if warm is not None else "")
            + f" ({sv['store']})"
        )
    lines += [f"note: {n}" for n in r["notes"]]
    lines.append(f"total {r['total_s']:.0f} s")
    return lines
