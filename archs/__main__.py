"""`python -m archs show baseline`: the layer table of a spec (see search.show)."""

import sys

from search.show import main

sys.exit(main())
