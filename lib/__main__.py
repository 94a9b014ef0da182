"""``python -m lib``: the command line (check, send, sandbox)."""

import sys

from lib.cli import main

if __name__ == "__main__":
    sys.exit(main())
