"""`python -m crawler [--config FILE] [--business ID] [--source TYPE] [--since DATE]`:
the same one crawl as `reviewwatch crawl`, for starting it as a child process."""

from __future__ import annotations

import sys

from reviewwatch.cli import main


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
    sys.argv = reviewwatch_argv(sys.argv[1:])
    main()
