"""The measurements behind `python -m search.bench`."""
