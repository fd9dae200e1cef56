"""Reports and leaderboards, read from the store."""
