"""`python -m search.worker CONFIG_JSON`: one worker process, started by search.workers."""

import sys

if __name__ == "__main__":
    try:
        from search.workers import worker_main
    except KeyboardInterrupt:  # stopped while importing: no trial was taken
        sys.exit(130)
    sys.exit(worker_main(sys.argv[1:]))
