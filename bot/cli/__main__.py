"""`python -m bot.cli`: the same as the `chibo` command."""

from bot.cli import main

main()
