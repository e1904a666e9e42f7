"""`actlab playground`: the protocol through Starlette's test client, and the page end to end in headless
Chromium (Playwright driving Debian's chromium, every request outside localhost blocked)."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import torch

pytest.importorskip("starlette", reason="the playground's extra is not installed: pip install 'actlab[playground]'")
pytest.importorskip("uvicorn", reason="the playground's extra is not installed: pip install 'actlab[playground]'")
with warnings.catch_warnings():  # starlette ≥ 1.x warns when it finds httpx rather than httpx2
    warnings.simplefilter("ignore")
    try:
        from starlette.testclient import TestClient
    except RuntimeError as e:  # neither httpx2 nor httpx
        pytest.skip(f"Starlette's test client is unavailable: {e}", allow_module_level=True)

from actlab.app.playground import frames  # noqa: E402
from actlab.app.playground.config import BOUNDS, PlaygroundConfig, PlaygroundError, parse  # noqa: E402
from actlab.app.playground.preset import planar_preset  # noqa: E402
from actlab.app.playground.server import create_app  # noqa: E402
from actlab.app.playground.trainer import Trainer  # noqa: E402
from conftest import chromium, launch, local_only  # noqa: E402

SNAKE_AND_FORMULA = {"activations": ["snake", "expr:x*tanh(softplus(x))"], "loss": "cross_entropy",
                     "optimizer": "adam", "lr": 0.03}


class Page:
    """The page's side of one websocket: send commands, read messages until a condition holds."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def send(self, kind: str, **extra: Any) -> None:
        self.ws.send_text(json.dumps({"type": kind, **extra}))

    def until(self, want: str, limit: int = 50) -> tuple[dict[str, Any], dict[str, Any]]:
        """The next message of type `want` ("frame": (header, arrays)); JSON ones as (message, {})."""
        for _ in range(limit):
            m = self.ws.receive()
            if m.get("bytes") is not None:
                header, arrays = frames.decode(m["bytes"])
                if want == "frame":
                    return header, arrays
            elif m.get("text") is not None:
                msg = json.loads(m["text"])
                if msg["type"] == want:
                    return msg, {}
        raise AssertionError(f"no {want!r} message")


@pytest.fixture()
def page() -> Iterator[Page]:
    with TestClient(create_app()) as client, client.websocket_connect("/ws") as ws:
        yield Page(ws)


def test_protocol_start_step_pause_reset(page: Page) -> None:
    page.send("config", config=SNAKE_AND_FORMULA)
    data, _ = page.until("data")
    assert len(data["x"]) == 500 and data["n_train"] == 250
    header, arrays = page.until("frame")
    assert header["epoch"] == 0 and arrays["map"].shape == (1, 100, 100)
    assert arrays["neurons"].shape == (6, 24, 24)  # 4 + 2 hidden neurons' thumbnails
    first = float(arrays["train_loss"][0])
    page.send("step")
    header, arrays = page.until("frame")
    assert header["epoch"] == 1 and math.isfinite(float(arrays["train_loss"][0]))
    page.send("play")
    while header["epoch"] < 10:
        header, arrays = page.until("frame")
    assert float(arrays["train_loss"][0]) < first
    page.send("pause")
    state, _ = page.until("state")
    assert state["playing"] is False and state["epoch"] >= 10
    page.send("reset")
    state, _ = page.until("state")
    header, arrays = page.until("frame")  # the frame that follows a command's state is the command's
    assert state["epoch"] == 0 and header["epoch"] == 0


def test_bad_formula_is_refused_with_the_parsers_message(page: Page) -> None:
    page.send("config", config={"activations": ["tanh", "expr:x*tanh(softplus(x)"]})
    error, _ = page.until("error")
    assert "'(' was never closed" in error["message"] and error["field"] == "activations.1"
    page.send("play")  # nothing runs: no configuration was accepted
    error, _ = page.until("error")
    assert "send a configuration first" in error["message"]


@pytest.mark.parametrize("config, field", [
    ({"widths": [4] * 7, "activations": ["tanh"] * 7}, "layers"),
    ({"widths": [10_000], "activations": ["tanh"]}, "neurons"),
    ({"seeds": 1000}, "seeds"),
    ({"points": 10**7}, "points"),
    ({"grid": 5000}, "grid"),
    ({"batch": 0}, "batch"),
    ({"lr": "fast"}, "lr"),
    ({"hidden": 3}, "hidden"),
])
def test_out_of_bounds_requests_are_refused(page: Page, config: dict[str, Any], field: str) -> None:
    page.send("config", config={})
    page.until("frame")
    page.send("config", config=config)
    error, _ = page.until("error")
    assert error["field"] == field, error
    page.send("step")  # the accepted configuration still trains (after the pause's frame at epoch 0)
    header, _ = page.until("frame")
    if header["epoch"] == 0:
        header, _ = page.until("frame")
    assert header["epoch"] == 1


def test_side_by_side_trains_in_lockstep(page: Page) -> None:
    page.send("config", config={"versus": "tanh", "optimizer": "adam"})  # the same activation: the same network
    page.until("frame")
    for _ in range(3):
        page.send("step")
    header, arrays = page.until("frame")
    while header["epoch"] < 3:
        header, arrays = page.until("frame")
    assert header["versus"] == "tanh" and arrays["map_b"].shape == arrays["map"].shape
    assert abs(arrays["map_b"] - arrays["map"]).max() < 1e-5
    assert arrays["train_loss_b"][0] == pytest.approx(arrays["train_loss"][0], abs=1e-6)
    page.send("config", config={"versus": "relu"})
    header, arrays = page.until("frame")
    assert header["versus"] == "relu" and header["epoch"] == 0
    page.send("config", config={"seeds": 4})
    error, _ = page.until("error")
    assert error["field"] == "versus" and "set seeds to 1" in error["message"]


def test_many_seeds_are_one_batch_and_each_seed_trains_as_alone() -> None:
    many = Trainer(parse({"seeds": 4, "seed": 7, "optimizer": "adam", "batch": 25}))
    alone = Trainer(parse({"seeds": 1, "seed": 9, "optimizer": "adam", "batch": 25, "grid": 40}))
    for _ in range(3):
        many.epoch()
        alone.epoch()
    _, a = many.frame()
    _, b = alone.frame()
    assert a["map"].shape == (4, 40, 40)
    assert abs(float(a["train_loss"][2]) - float(b["train_loss"][0])) < 1e-5  # seed 9 = the third of 7, 8, 9, 10
    assert abs(a["map"][2] - b["map"][0]).max() < 1e-4


def test_weights_export_is_a_state_dict_of_the_same_network(page: Page) -> None:
    import base64
    import io

    import torch

    import actlab

    raw = {"activations": ["snake", "expr:x*tanh(softplus(x))"], "features": ["x1", "x2", "x1*x2"], "seed": 5}
    page.send("config", config=raw)
    page.until("frame")
    page.send("step")
    header, arrays = page.until("frame")
    page.send("weights")
    msg, _ = page.until("weights")
    state = torch.load(io.BytesIO(base64.b64decode(msg["base64"])), weights_only=True)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), actlab.create("snake"), torch.nn.Linear(4, 2),
                              actlab.create("expr:x*tanh(softplus(x))"), torch.nn.Linear(2, 1))
    net.load_state_dict(state)
    trainer = Trainer(parse(raw))
    trainer.epoch()  # the same seed trains the same: the network the page had after one epoch
    x = trainer.X_test.T
    assert torch.allclose(net(x)[:, 0], trainer.forward(trainer.X_test)[0][0], atol=1e-5)
    assert msg["filename"] == "playground-seed5-epoch1.pt"
    assert arrays["space"].shape == (500, 2) and len(header["space_line"]) == 3  # last hidden layer of width 2


@pytest.mark.parametrize("widths, k", [([4, 2], 2), ([3], 3), ([4, 5], 0)])
def test_the_feature_space_of_a_last_layer_of_two_or_three(widths: list[int], k: int) -> None:
    trainer = Trainer(parse({"widths": widths, "activations": ["tanh"] * len(widths)}))
    header, arrays = trainer.frame()
    if not k:
        assert "space" not in arrays and "space_line" not in header
        return
    assert arrays["space"].shape == (500, k) and len(header["space_line"]) == k + 1  # type: ignore[arg-type]
    hidden = torch.tanh(trainer.params[0][0] @ trainer.X_all[:, :1] + trainer.params[1][0])[:, 0]
    if len(widths) == 1:  # the first point as the one hidden layer sees it
        assert torch.allclose(torch.from_numpy(arrays["space"][0]), hidden, atol=1e-6)


def test_edge_of_chaos_initialisation() -> None:
    from actlab.app.playground.trainer import init_scales

    scales, notes = init_scales(parse({"init": "chaos", "widths": [8], "activations": ["relu"]}))
    assert scales[0] == pytest.approx((math.sqrt(2), 0.0), abs=1e-6) and scales[1] == (1.0, 0.0)
    assert "edge of chaos" in notes[0]
    W = Trainer(parse({"init": "chaos", "widths": [16], "activations": ["relu"], "features": ["x1", "x2"],
                       "seeds": 64})).params[0]
    assert float(W.detach().std()) == pytest.approx(math.sqrt(2 / 2), rel=0.15)  # σw / √fan_in


def test_endpoints_catalog_check_and_preset() -> None:
    with TestClient(create_app()) as client:
        assert "<canvas" in client.get("/").text
        assert client.get("/static/playground.js").status_code == 200
        cat = client.get("/api/catalog").json()
        assert {"snake", "relu", "gelu"} <= set(cat["activations"]) and "glu" not in cat["activations"]
        assert cat["bounds"]["seeds"] == list(BOUNDS["seeds"])
        ok = client.get("/api/activation", params={"spec": "expr:x*tanh(softplus(x))"}).json()
        assert ok["ok"] and "monotonic" in ok["summary"] and "range" in ok["summary"]
        bad = client.get("/api/activation", params={"spec": "expr:x*foo(x)"}).json()
        assert not bad["ok"] and "unknown function" in bad["message"]
        huge = client.get("/api/activation", params={"spec": "prelu(num_parameters=1_000_000_000)"}).json()
        assert not huge["ok"] and "5 digits" in huge["message"]  # nothing allocated
        glu = client.get("/api/activation", params={"spec": "glu"}).json()
        assert not glu["ok"] and "one output per neuron" in glu["message"]
        toml = client.post("/api/preset", json={"config": {"activations": ["snake", "relu"]}, "epochs": 3}).text
        assert 'study = "planar"' in toml and 'activations = ["snake"]' in toml
        toml = client.post("/api/preset", json={"config": {"activations": ["snake", "relu"], "versus": "gelu"}}).text
        assert 'activations = ["snake", "gelu"]' in toml


def test_the_preset_is_one_that_actlab_run_takes() -> None:
    import tomllib

    from actlab.studies.config import build
    from actlab.studies.planar.study import PlanarConfig

    values = tomllib.loads(planar_preset(parse({"widths": [3, 3], "activations": ["expr:x*sigmoid(x)"] * 2,
                                                "seeds": 3, "loss": "cross_entropy"}), epochs=5))
    assert values.pop("study") == "planar"
    cfg = build(PlanarConfig, values)
    assert cfg.layers == 2 and cfg.widths == [3] and cfg.seed_list == [0, 1, 2] and cfg.steps == 5 * 25


def test_config_parse_rejects_and_defaults() -> None:
    assert parse({}) == PlaygroundConfig()
    with pytest.raises(PlaygroundError, match="one per hidden layer"):
        parse({"widths": [2, 2], "activations": ["tanh"]})
    with pytest.raises(PlaygroundError, match="unknown 'nope'"):
        parse({"dataset": "nope"})


# ---------------------------------------------------------------- the page in a real browser



@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                                        timeout_graceful_shutdown=1))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


def epoch(page: Any) -> int:
    return int(page.inner_text("#epoch").replace(",", ""))


def test_the_page_trains_live_in_chromium(server: str, tmp_path: Any) -> None:
    chromium()  # skip before Playwright starts where there is no Chromium
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    outside: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", local_only(outside))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server, wait_until="load")
            page.wait_for_selector("#play:not([disabled])")
            layers = page.locator(".layer")
            assert layers.count() == 2
            layers.nth(0).locator(".act-select").select_option("snake")
            layers.nth(1).locator(".act-select").select_option("")  # formula…
            layers.nth(1).locator(".act-formula").fill("x*tanh(softplus(x))")
            page.wait_for_function("document.querySelectorAll('.act-summary')[1].textContent.includes('range')")
            page.select_option("#optimizer", "adam")
            page.fill("#lr", "0.03")
            page.dispatch_event("#lr", "change")
            page.wait_for_function("document.getElementById('epoch').textContent === '000,000'")
            page.wait_for_timeout(300)
            before_map = page.evaluate("document.getElementById('heatmap').toDataURL()")
            loss_before = float(page.inner_text("#loss-train"))
            page.click("#play")
            page.wait_for_function("parseInt(document.getElementById('epoch').textContent.replace(',', '')) >= 30",
                                   timeout=20_000)
            page.click("#play")  # pause
            assert epoch(page) >= 30
            page.wait_for_timeout(300)
            loss_after = float(page.inner_text("#loss-train"))
            after_map = page.evaluate("document.getElementById('heatmap').toDataURL()")
            assert loss_after < loss_before and after_map != before_map
            assert "snake" in page.evaluate("decodeURIComponent(location.hash)")  # the state is in the URL
            assert page.is_visible("#space") and page.is_visible("#network")  # last layer of 2: the feature space
            with page.expect_download() as download:
                page.click("#weights")
            assert download.value.suggested_filename.endswith(".pt")

            formula = layers.nth(1).locator(".act-formula")
            formula.fill("x*tanh(softplus(x)")
            page.wait_for_function("document.querySelectorAll('.act-message')[1].textContent.includes('never closed')")
            assert page.is_disabled("#play")  # nothing runs
            formula.fill("x*tanh(softplus(x))")
            page.wait_for_selector("#play:not([disabled])")

            page.fill("#versus", "relu")  # side by side
            page.wait_for_selector("#versus-box:not([hidden])")
            assert page.text_content("#versus-name") == "relu"
            page.fill("#versus", "x*sigmoid(x")
            page.wait_for_function("document.getElementById('versus-message').textContent.includes('never closed')")
            page.fill("#versus", "")
            page.wait_for_selector("#versus-box[hidden]", state="attached")

            page.fill("#seeds", "8")
            page.dispatch_event("#seeds", "change")
            page.click("#play")
            page.wait_for_function("document.querySelectorAll('#seed-grid canvas').length === 8", timeout=20_000)
            page.wait_for_function("document.getElementById('share').textContent.includes('of 8 seeds')")
            page.click("#play")
        finally:
            browser.close()
    assert outside == [], outside
    assert errors == [], errors


def test_without_the_extra_the_command_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from actlab.cli.playground_cmd import playground_command

    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)  # `import uvicorn` raises ImportError
    with pytest.raises(typer.Exit) as exit_info:
        playground_command(port=0, host="127.0.0.1", no_browser=True)
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'actlab[playground]'" in err


def test_a_slow_page_gets_the_latest_frame_never_a_queue() -> None:
    import asyncio

    from actlab.app.playground.server import Session

    loop = asyncio.new_event_loop()  # never run: the page takes nothing
    session = Session(loop)
    session.thread.start()
    try:
        session.handle(json.dumps({"type": "config", "config": {}}))
        session.handle(json.dumps({"type": "play"}))
        deadline = time.monotonic() + 20
        while (session.trainer is None or session.trainer.epoch_count < 20) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.trainer is not None and session.trainer.epoch_count >= 20  # training went on
        with session.lock:
            frame, texts = session.latest, list(session.texts)
        assert frame is not None and len(texts) <= 3  # one frame waiting (epoch 0's), a few JSON messages
        assert frames.decode(frame)[0]["epoch"] <= 1
    finally:
        session.stop()
        session.thread.join(10)
        loop.close()


def test_the_command_serves_and_ctrl_c_stops_it_cleanly() -> None:
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "actlab", "playground", "--no-browser", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        deadline, page = time.monotonic() + 60, ""
        while time.monotonic() < deadline and not page:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
        assert "actlab playground" in page
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/ws") as ws:  # a page that is training when Ctrl-C comes
            ws.send(json.dumps({"type": "config", "config": {}}))
            ws.send(json.dumps({"type": "play"}))
            ws.recv(timeout=20)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and f"http://127.0.0.1:{port}/" in err


def test_regenerate_draws_new_points(page: Page) -> None:
    page.send("config", config={"dataset": "spiral", "noise": 0.3})
    first, _ = page.until("data")
    page.send("regenerate")
    second, _ = page.until("data")
    state, _ = page.until("state")
    assert state["config"]["data_seed"] == 1 and second["x"] != first["x"] and len(second["x"]) == 500


def test_a_link_restores_the_page(server: str) -> None:
    chromium()  # skip before Playwright starts where there is no Chromium
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    import urllib.parse

    cfg = {"dataset": "moons", "widths": [3, 3, 2], "activations": ["relu", "expr:x*sigmoid(x)", "snake(a=0.5)"],
           "optimizer": "rmsprop", "seeds": 4, "features": ["x1", "x2", "x1*x2"]}
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
            page.goto(server + "#" + urllib.parse.quote(json.dumps(cfg)), wait_until="load")
            page.wait_for_selector("#play:not([disabled])")
            assert page.input_value("#dataset") == "moons" and page.input_value("#optimizer") == "rmsprop"
            assert page.input_value("#seeds") == "4" and page.is_checked("input[name=feature][value='x1*x2']")
            layers = page.locator(".layer")
            assert layers.count() == 3
            assert layers.nth(1).locator(".act-formula").input_value() == "x*sigmoid(x)"
            assert layers.nth(2).locator(".act-select").input_value() == "snake(a=0.5)"
            page.wait_for_function("document.querySelectorAll('#seed-grid canvas').length === 4")
        finally:
            browser.close()


def test_a_diverged_network_still_sends_frames() -> None:
    trainer = Trainer(parse({"lr": 10.0, "activations": ["square", "square"], "loss": "cross_entropy"}))
    for _ in range(5):
        trainer.epoch()
    header, arrays = frames.decode(frames.encode(*trainer.frame()))
    assert not math.isfinite(float(arrays["train_loss"][0])) and header["epoch"] == 5
