"""The bot's own web server routes: signed file links (and later health, metrics and the dashboard)."""
