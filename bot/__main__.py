"""``python -m bot`` runs the newsbot CLI."""

from bot.surfaces.cli import main

main()
