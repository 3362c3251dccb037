"""Prompt templates (text only). This package imports nothing from the project."""
