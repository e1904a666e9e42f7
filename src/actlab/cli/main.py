"""`actlab` command line entry point (also `python -m actlab`)."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from actlab.cli import (
    analyze_cmd,
    compare_cmd,
    docs_cmd,
    export_cmd,
    list_cmd,
    playground_cmd,
    plot_cmd,
    propagate_cmd,
    report_cmd,
    run_cmd,
    show_cmd,
)
from actlab.core.errors import ActlabInputError
from actlab.results import StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="actlab: verified activation functions and a laboratory to study them.")
app.command("list")(list_cmd.list_command)
app.command("show")(show_cmd.show_command)
app.command("analyze")(analyze_cmd.analyze_command)
app.command("plot")(plot_cmd.plot_command)
app.command("propagate")(propagate_cmd.propagate_command)
app.command("docs")(docs_cmd.docs_command)
app.command("export")(export_cmd.export_command)
app.command("run")(run_cmd.run_command)
app.command("report")(report_cmd.report_command)
app.command("compare")(compare_cmd.compare_command)
app.command("playground")(playground_cmd.playground_command)


# click's base error, from the click typer runs on (recent typers vendor their own copy)
_CLICK_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _forget_embedded_interrupt() -> None:
    """`python -m actlab` ends in CPython's Py_RunMain, which kills the process with SIGINT (status −2, not 130)
    when a KeyboardInterrupt once escaped code a library ran through PyRun_String (a Ctrl-C landing inside such a
    call while the report imports its libraries: 3 of 40 interrupted reports), whatever status the program then
    chose. CPython clears that flag at the start of every PyRun_String: one empty statement run that way, after
    the Ctrl-C was handled, leaves exit 130 in place."""
    if sys.implementation.name != "cpython":
        return
    try:
        import ctypes

        ctypes.pythonapi.PyRun_SimpleString(b"pass")
    except Exception:  # no ctypes, no symbol: the status may then be −2 (the shell shows 130 for both)
        pass


def main() -> None:
    """Run the CLI. Bad input: one line on stderr, exit 2 (usage errors too). Ctrl-C: one line,
    exit 130. Internal failure: one line, exit 1 (set ACTLAB_DEBUG=1 for the traceback)."""
    try:
        code = app(standalone_mode=False)
    except _CLICK_ERROR as e:  # usage: an unknown option, a missing argument (`actlab` alone prints the help)
        if e.format_message():
            print(f"actlab: error: {e.format_message()}", file=sys.stderr)
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("actlab: interrupted", file=sys.stderr)
        _forget_embedded_interrupt()
        sys.exit(130)
    except (ActlabInputError, StoreError) as e:
        print(f"actlab: error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        if os.environ.get("ACTLAB_DEBUG"):
            raise
        print(f"actlab: internal error: {type(e).__name__}: {e} (ACTLAB_DEBUG=1 shows the traceback)", file=sys.stderr)
        sys.exit(1)
    if code == 130:  # Ctrl-C inside a command: typer ≥ 0.2x returns 130 (older ones raise Abort, above)
        print("actlab: interrupted", file=sys.stderr)
        _forget_embedded_interrupt()
    sys.exit(code if isinstance(code, int) else 0)
