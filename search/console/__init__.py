"""The console: a run's events as plain lines or a live view."""
