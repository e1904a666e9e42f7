"""The playground's ASGI app (Starlette): the page, a few JSON endpoints and one websocket per page.

Each websocket has a `Session`: a worker thread that owns the `Trainer` (torch on one thread there) and
applies the page's commands between epochs. The thread never talks to the socket: it leaves JSON messages
in a list (all of them are sent, in order) and the newest frame in a one-frame slot that each new frame
overwrites, so a slow page gets the latest picture, never a queue. While the slot is still full the
thread trains on without drawing.

Messages from the page (JSON text): {"type": "config", "config": {...}} (any subset of the settings;
refused with {"type": "error", "message", "field"} and the training paused), "play", "pause", "step",
"reset", "regenerate", "weights". To the page: {"type": "data"} (the points), {"type": "state"} (playing,
the accepted config), {"type": "note"}, {"type": "error"}, {"type": "weights"} (the first seed's state_dict,
torch.save'd, base64), and binary frames (`frames.encode`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import json
import queue
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from actlab.app.playground import frames
from actlab.app.playground.config import LIVE, PlaygroundConfig, PlaygroundError, catalog, check, parse
from actlab.app.playground.preset import planar_preset
from actlab.app.playground.trainer import Trainer, init_scales

STATIC = Path(__file__).parent / "static"
DATA_KEYS = ("dataset", "noise", "train_share", "points", "data_seed")
MAX_MESSAGE = 64_000
"""Characters in one message from the page, at most (a configuration is a few hundred)."""


class Session:
    """One page's training: a worker thread, its commands, its outgoing messages and latest frame."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wake = asyncio.Event()
        self.commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.lock = threading.Lock()
        self.texts: list[str] = []
        self.latest: bytes | None = None
        self.cfg: PlaygroundConfig | None = None  # the last accepted configuration (the receiving side's view)
        self.trainer: Trainer | None = None  # the worker's
        self.versus: Trainer | None = None  # side by side: the second network, trained in lockstep
        self.playing = False
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="actlab-playground-trainer", daemon=True)

    # --- the receiving side (event loop) ---------------------------------------------------------------
    def handle(self, text: str) -> None:
        """Apply one message from the page: validate here, train in the worker."""
        try:
            if len(text) > MAX_MESSAGE:
                raise PlaygroundError(f"a message of at most {MAX_MESSAGE} characters")
            msg = json.loads(text)
            kind = msg.get("type") if isinstance(msg, dict) else None
            if kind == "config":
                self._configure(parse(msg.get("config", {}), base=self.cfg))
            elif kind == "regenerate":
                cfg = self._require()
                self._configure(replace(cfg, data_seed=(cfg.data_seed + 1) % 2**31))
            elif kind in ("play", "pause", "step", "reset", "weights"):
                self._require()
                self.commands.put((kind, None))
            else:
                raise PlaygroundError(f"unknown message type {kind!r}; allowed: config, play, pause, step, "
                                      "reset, regenerate, weights")
        except PlaygroundError as e:
            self.commands.put(("pause", None))
            self.post({"type": "error", "message": str(e), "field": e.field})
        except ValueError as e:  # not JSON
            self.post({"type": "error", "message": f"not a JSON message: {e}", "field": ""})

    def _require(self) -> PlaygroundConfig:
        if self.cfg is None:
            raise PlaygroundError("send a configuration first")
        return self.cfg

    def _configure(self, cfg: PlaygroundConfig) -> None:
        self.cfg = cfg
        self.commands.put(("config", cfg))

    async def send_loop(self, ws: WebSocket) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            with self.lock:
                texts, frame, self.texts, self.latest = self.texts, self.latest, [], None
            for t in texts:
                await ws.send_text(t)
            if frame is not None:
                await ws.send_bytes(frame)

    # --- the worker thread --------------------------------------------------------------------------------
    def post(self, msg: dict[str, Any]) -> None:
        """Queue a JSON message; a frame still waiting is older than it and is dropped, so every frame the
        page gets after a message shows the state after that message."""
        with self.lock:
            self.texts.append(json.dumps(msg))
            self.latest = None
        self._wake()

    def _wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.wake.set)
        except RuntimeError:  # the page has gone and its event loop with it: the thread ends
            self.closed = True

    def publish(self) -> None:
        assert self.trainer is not None
        header, arrays = self.trainer.frame()
        if self.versus is not None:
            _, other = self.versus.frame()
            header["versus"] = self.versus.cfg.activations[0]
            arrays.update({f"{k}_b": other[k] for k in ("train_loss", "test_loss", "train_acc", "test_acc", "map")})
        frame = frames.encode(header, arrays)
        with self.lock:
            self.latest = frame
        self._wake()

    def stop(self) -> None:
        self.commands.put(("stop", None))

    def _run(self) -> None:
        torch.set_num_threads(1)  # small tensors: one thread is fastest, and leaves the other cores free
        while not self.closed:
            try:
                kind, arg = self.commands.get(block=not self.playing)
            except queue.Empty:
                kind, arg = "train", None
            if kind == "stop":
                return
            try:
                self._apply(kind, arg)
            except Exception as e:  # a network that cannot train (a NaN in an activation's parameters, ...)
                self.playing = False
                self.post({"type": "error", "message": f"training stopped: {type(e).__name__}: {e}", "field": ""})
                self.post({"type": "state", "playing": False})

    def _apply(self, kind: str, arg: Any) -> None:
        if kind == "config":
            self._rebuild(arg)
            return
        if self.trainer is None:
            return
        if kind in ("train", "step") and self.versus is not None:
            self.versus.epoch()
        elif kind == "reset" and self.versus is not None:
            self.versus.reset()
        if kind == "train":
            self.trainer.epoch()
            with self.lock:
                idle = self.latest is None
            if idle:
                self.publish()
            return
        if kind == "weights":
            self.post(self._weights())
            return
        if kind == "step":
            self.playing = False
            self.trainer.epoch()
        elif kind == "reset":
            self.trainer.reset()
        elif kind in ("play", "pause"):
            self.playing = kind == "play"
        self.post({"type": "state", "playing": self.playing, "epoch": self.trainer.epoch_count})
        self.publish()  # after the state: the page reads them in this order

    def _weights(self) -> dict[str, Any]:
        """The first seed's trained network as a torch.save'd state_dict, base64 in a JSON message."""
        assert self.trainer is not None
        buffer = io.BytesIO()
        torch.save(self.trainer.state_dict(), buffer)
        cfg = self.trainer.cfg
        return {"type": "weights", "filename": f"playground-seed{cfg.seed}-epoch{self.trainer.epoch_count}.pt",
                "base64": base64.b64encode(buffer.getvalue()).decode()}

    def _rebuild(self, cfg: PlaygroundConfig) -> None:
        old = self.trainer
        changed = {k for k, v in cfg.to_dict().items() if old is None or getattr(old.cfg, k) != v}
        if old is not None and changed <= LIVE:
            old.set_live(cfg)
            trainer = old
        elif old is not None and not changed & set(DATA_KEYS):
            trainer = Trainer(cfg, data=old.data)
        else:
            trainer = Trainer(cfg)
            self.post(trainer.data_message())
        self.trainer = trainer
        self._rebuild_versus(cfg, rebuilt=trainer is not old)
        if cfg.init == "chaos" and trainer is not old:
            self.post({"type": "note", "message": "edge of chaos: " + "; ".join(init_scales(cfg)[1])})
        self.post({"type": "state", "playing": self.playing, "epoch": trainer.epoch_count, "config": cfg.to_dict()})
        self.publish()


    def _rebuild_versus(self, cfg: PlaygroundConfig, rebuilt: bool) -> None:
        assert self.trainer is not None
        if not cfg.versus:
            self.versus = None
            return
        other = replace(cfg, activations=[cfg.versus] * len(cfg.widths))
        if self.versus is not None and not rebuilt and self.versus.cfg.activations == other.activations:
            self.versus.set_live(other)
        else:
            self.versus = Trainer(other, data=self.trainer.data)
            if self.trainer.epoch_count:  # a live change to the first network only: start both afresh
                self.trainer.reset()


async def websocket_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    session = Session(asyncio.get_running_loop())
    session.thread.start()
    sender = asyncio.create_task(session.send_loop(ws))
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                session.post({"type": "error", "message": "send JSON text, not binary messages", "field": ""})
            else:
                session.handle(text)
    finally:
        session.stop()
        sender.cancel()


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


@functools.lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    return catalog()


def catalog_endpoint(request: Request) -> Response:
    return JSONResponse(_catalog())


def activation_endpoint(request: Request) -> Response:
    """GET /api/activation?spec=…: the parser's verdict and the analyser's one line (run in a thread)."""
    return JSONResponse(check(request.query_params.get("spec", "")))


async def preset_endpoint(request: Request) -> Response:
    """POST a configuration (JSON): the planar preset TOML that `actlab run` takes."""
    try:
        raw = await request.json()
        cfg = parse(raw.get("config", {}) if isinstance(raw, dict) else raw)
        text = planar_preset(cfg, int(raw.get("epochs", 0)) if isinstance(raw, dict) else 0)
    except (PlaygroundError, ValueError, TypeError) as e:
        return JSONResponse({"ok": False, "message": str(e)}, status_code=400)
    return PlainTextResponse(text, media_type="application/toml",
                             headers={"Content-Disposition": 'attachment; filename="playground-planar.toml"'})


def create_app() -> Starlette:
    """The playground's ASGI app (serve it with uvicorn, or drive it with Starlette's TestClient)."""
    return Starlette(routes=[
        Route("/", index),
        Route("/api/catalog", catalog_endpoint),
        Route("/api/activation", activation_endpoint),
        Route("/api/preset", preset_endpoint, methods=["POST"]),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])
