"""`python -m search.data fetch`: fetch the missing MNIST files (see search.engine.idx)."""

from search.engine.idx import main

if __name__ == "__main__":
    raise SystemExit(main())
