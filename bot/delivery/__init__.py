"""Getting messages out: the outbox sender, per-channel pacing and the broadcast progress watcher."""
