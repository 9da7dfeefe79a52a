"""``python -m analysis``: see :mod:`analysis.cli`."""

import time

STARTED = time.time()  # the user's wait starts here (before the package's imports)

import sys  # noqa: E402

from analysis.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(started=STARTED))
