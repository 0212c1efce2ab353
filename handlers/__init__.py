"""What the bot does with each incoming event: registration, secretary flows, board commands."""
