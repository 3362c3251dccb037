"""Measuring newsbot: ``newsbot eval`` (scores on a questions file) and ``newsbot bench`` (speed and memory)."""
