"""`actlab report [--store PATH] [-o FILE.html]`."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import typer

from actlab.cli.output import output_file
from actlab.core.errors import ActlabInputError
from actlab.results import Store
from actlab.studies.page import write_report


def report_command(
    store: Path = typer.Option(Path("actlab-runs/results.db"), "--store", help="The results store to read."),
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="HTML file (default: report.html next to the store)."),
) -> None:
    """Write the HTML report of a results store (one self-contained file) and print its path."""
    Store(store, create=False).close()  # a missing, foreign or other-version store: one clear line, exit 2
    out = output or store.parent / "report.html"
    output_file(out, "the report")
    command = " ".join(["actlab", *sys.argv[1:]])
    # rendered into a private folder beside the output, then moved into place in one step: an
    # interrupted report (Ctrl-C, an error) leaves no partial file, and an old report is kept
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".actlab-report-", dir=out.parent))
    except OSError as e:
        raise ActlabInputError(f"cannot write the report in {out.parent}: {e.strerror}") from None
    interrupted: list[int] = []

    def on_ctrl_c(signum: int, frame: object) -> None:
        interrupted.append(signum)
        raise KeyboardInterrupt

    def on_unraisable(u: Any) -> None:
        if issubclass(u.exc_type, KeyboardInterrupt):
            interrupted.append(signal.SIGINT)
        else:
            hook(u)

    # Python drops an exception raised inside a weakref callback or __del__ ("Exception ignored in"):
    # a Ctrl-C that lands there is remembered, and the report is not moved into place
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_ctrl_c) if main else None
    hook, sys.unraisablehook = sys.unraisablehook, on_unraisable
    try:
        try:
            draft = write_report(store, work / out.name, command=command)
        except Exception:
            # a Ctrl-C that lands inside an import some library guards (a half-imported module then
            # fails later with an AttributeError) is still the user's Ctrl-C, not an internal error
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        if interrupted:
            raise KeyboardInterrupt
        draft.replace(out)
    finally:
        sys.unraisablehook = hook
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        shutil.rmtree(work, ignore_errors=True)
    typer.echo(str(out))
