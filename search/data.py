"""`python -m search.data fetch`: fetch the missing MNIST files (see search.engine.data)."""

from search.engine.data import main

if __name__ == "__main__":
    raise SystemExit(main())
