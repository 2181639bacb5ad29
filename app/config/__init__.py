"""Where the app keeps its files, its settings, credentials and known host keys."""
