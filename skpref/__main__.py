"""``python -m skpref`` and the ``skpref`` console script."""

import sys

from skpref._cli import main

if __name__ == "__main__":
    sys.exit(main())
