"""`actlab playground [--port N] [--host 127.0.0.1] [--no-browser]`: the live training page."""

from __future__ import annotations

import sys
import threading
import webbrowser

import typer

INSTALL = "actlab playground needs its web server: pip install 'actlab[playground]'"


def playground_command(
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="The port to listen on (0: any free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on; another than 127.0.0.1 "
                             "lets anyone on that network use the page."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open the page in a browser."),
) -> None:
    """Train small networks live in the browser: every activation of the catalog, typed formulas, many seeds."""
    try:
        import uvicorn

        from actlab.app.playground.server import create_app
    except ImportError:
        print(INSTALL, file=sys.stderr)
        raise typer.Exit(2) from None
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"actlab playground listens on {host}: anyone on that network can use it", file=sys.stderr)
    print(f"actlab playground: {url} (Ctrl-C stops it)", file=sys.stderr)
    if not no_browser and port:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
