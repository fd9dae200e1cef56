"""`python -m search.worker INDEX [LABEL...]`: one worker process, started by search.spawn."""

import sys

if __name__ == "__main__":
    try:
        from search.workers import worker_main
    except KeyboardInterrupt:  # stopped while importing: no trial was taken
        sys.exit(130)
    sys.exit(worker_main())  # the arguments only label the process
