"""Pure text functions both sides share: script detection, Arabic normalisation, tokens, sentences.

Imports nothing of the project (checked by tests/test_architecture.py)."""
