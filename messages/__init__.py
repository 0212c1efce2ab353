"""Every Vietnamese text a user reads, and how replies render per channel."""
