"""`python -m search.worker CONFIG_JSON`: one worker process, started by search.workers."""

import sys

from search.workers import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
