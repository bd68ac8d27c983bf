"""`python -m crawler [--config FILE] [--business ID] [--source TYPE] [--since DATE]`:
the same one crawl as `reviewwatch crawl`, kept for starting it as a child process.

Reading the configuration belongs to the application, a layer above the crawler, so this module
does not import it: it replaces its own process (same PID, so signals reach the crawl) with
`python -m reviewwatch ... crawl ...`.
"""

from __future__ import annotations

import os
import sys


def reviewwatch_argv(argv: list[str]) -> list[str]:
    """`--config` is an option of the `reviewwatch` group: it goes before `crawl`."""
    leading: list[str] = []
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            leading += [arg, next(args, "")]
        elif arg.startswith("--config="):
            leading.append(arg)
        else:
            rest.append(arg)
    return ["reviewwatch", *leading, "crawl", *rest]


if __name__ == "__main__":
    sys.stdout.flush()
    sys.stderr.flush()
    argv = reviewwatch_argv(sys.argv[1:])[1:]
    os.execv(sys.executable, [sys.executable, "-m", "reviewwatch", *argv])
