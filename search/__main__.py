"""`python -m search` is `python -m search.run`."""

from search.run import main
from search.workers.spawn import fast_exit

fast_exit(main())  # what it ran is stored or printed: skip the teardown
