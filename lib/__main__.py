"""``python -m lib``: the command line (check, send, sandbox)."""

import gc
import sys

from lib.model.collector import collector_paused

with collector_paused():  # the command line's modules live until exit: collector passes while they load free nothing
    from lib.cli import main

if __name__ == "__main__":
    code = main()
    # Everything is written and closed: spare the exit the collector's last passes over a heap that is about
    # to go anyway (~50 ms of every command, more after a large file).
    gc.freeze()
    sys.exit(code)
