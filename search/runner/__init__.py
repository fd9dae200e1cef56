"""The runner: one run session, confirmation, replay, export, the studies registry."""
