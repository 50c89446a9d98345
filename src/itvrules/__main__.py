"""``python -m itvrules``: the same command line as the ``itvrules`` script."""

from __future__ import annotations

import sys

from itvrules.cli import main

if __name__ == "__main__":
    sys.exit(main())
