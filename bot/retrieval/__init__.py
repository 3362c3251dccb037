"""Finding the evidence: dense + keyword (BM25, cross-script name keys) retrieval, fused, then scored sentence by sentence."""
