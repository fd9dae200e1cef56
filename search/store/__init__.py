"""The store: storage URLs, provenance, the settings a study keeps, trial states."""
