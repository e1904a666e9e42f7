"""Take docs/img/playground.png: the playground page in headless Chromium (Debian's chromium through
Playwright, nothing downloaded), after training a network with `snake` and a typed formula on xor.

    python tools/playground_screenshot.py [OUT.png] [--seeds N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from actlab.app.playground.server import create_app

CONFIG = {"dataset": "xor", "noise": 0.1, "widths": [6, 2], "activations": ["snake", "expr:x*tanh(softplus(x))"],
          "optimizer": "adam", "lr": 0.03, "loss": "cross_entropy", "seed": 3}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default="docs/img/playground.png")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    fragment = urllib.parse.quote(json.dumps({**CONFIG, "seeds": args.seeds}))
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
        page.goto(f"http://127.0.0.1:{port}/#{fragment}", wait_until="load")
        page.wait_for_selector("#play:not([disabled])")
        page.check("#show-test")
        page.click("#play")
        page.wait_for_function(f"parseInt(document.getElementById('epoch').textContent.replace(',', '')) >= "
                               f"{args.epochs}", timeout=60_000)
        page.click("#play")
        page.wait_for_timeout(500)
        page.screenshot(path=args.out, full_page=True)
        browser.close()
    server.should_exit = True
    print(Path(args.out).resolve())


if __name__ == "__main__":
    main()
