"""`python -m search.worker INDEX [LABEL...]`: one worker process (started by search.workers)."""

import signal

if __name__ == "__main__":
    # Until it is configured a worker has nothing to record: a stop signal ends it at once,
    # quietly, wherever it is in its imports (search.workers.process installs its handler later).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from search.workers.process import worker_main
    from search.workers.spawn import fast_exit

    code = worker_main()  # the arguments only label the process
    fast_exit(code)  # its trials are stored: skip the interpreter's teardown
