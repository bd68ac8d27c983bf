"""One module per sub-command, each exposing `command`; reviewwatch.cli loads them lazily."""
