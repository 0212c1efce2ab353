"""The `chibo` command line, one module per group of commands; importing this package registers them all."""

from bot.cli import db, directives, invites, people, run, tree_changes, web  # noqa: F401 - each registers its commands
from bot.cli.common import app, main

__all__ = ["app", "main"]
