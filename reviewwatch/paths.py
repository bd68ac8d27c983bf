"""Where the command line may write: files and folders the user names are checked before any
work is done, and a missing folder is a one-line error (exit 2), never created on a guess."""

from __future__ import annotations

from pathlib import Path

from reviewwatch.errors import InputError


def output_file(path: Path) -> Path:
    """A file to write (`--output`): its folder must exist; a typo is not a new folder."""
    if path.is_dir():
        raise InputError(f"{path} is a folder: give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: the folder {folder} does not exist")
    return path


def outbox_folder(path: Path) -> Path:
    """A folder to write files into (`--outbox`): it may be new, the folder above must exist."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} is a file, not a folder")
    if not path.exists() and not path.parent.is_dir():
        raise InputError(f"cannot write into {path}: the folder {path.parent} does not exist")
    return path
