"""Chibo: directives out to party cells, short structured reports back, on Telegram and Zalo."""
