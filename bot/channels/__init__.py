"""Platform adapters (Telegram, Zalo) behind one neutral Channel interface; the only place platforms are known."""
