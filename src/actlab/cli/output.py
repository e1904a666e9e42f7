"""Where commands write: an output path a user typed is checked before any work is done.

A path under a file, in a folder this process may not write, or naming a folder where a file is
wanted, is bad input (one line, exit 2), not an internal error after the figure or report has been
computed. Nothing is created here: the writer makes missing folders once it has something to write.
"""

from __future__ import annotations

import os
from pathlib import Path

from actlab.core.errors import ActlabInputError


def output_folder(folder: Path, what: str) -> Path:
    """`folder`, if it is (or can be made) a folder this process may write."""
    existing = folder
    while not existing.exists():  # the nearest folder that exists decides
        existing = existing.parent
    if not existing.is_dir():
        raise ActlabInputError(f"cannot write {what} in {folder}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ActlabInputError(f"cannot write {what} in {folder}: {existing} is not writable")
    return folder


def output_file(path: Path, what: str) -> Path:
    """`path`, if it is not a folder and its folder can be written."""
    if path.is_dir():
        raise ActlabInputError(f"cannot write {what} to {path}: it is a directory")
    output_folder(path.parent, what)
    return path
