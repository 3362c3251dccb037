"""Turning evidence into an answer: the chain, the extractive and LLM answerers, confidence, relations, follow-ups."""
