"""Article ingest: load files, chunk them with offsets, embed, and store in Chroma.

This package never imports ``bot``; it receives plain values, not the bot's settings.
"""
