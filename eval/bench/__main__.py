"""`python -m eval.bench`: the bench's command line, and how `Bench` starts its workers."""

import sys

from eval.bench.cli import main

sys.exit(main(sys.argv[1:]))
