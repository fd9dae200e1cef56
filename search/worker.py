"""`python -m search.worker INDEX [LABEL...]`: one worker process (started by search.workers)."""

import sys

if __name__ == "__main__":
    try:
        from search.workers.process import worker_main
        from search.workers.spawn import fast_exit
    except KeyboardInterrupt:  # stopped while importing: no trial was taken
        sys.exit(130)
    code = worker_main()  # the arguments only label the process
    fast_exit(code)  # its trials are stored: skip the interpreter's teardown
