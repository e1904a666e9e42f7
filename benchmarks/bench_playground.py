"""Frames per second of `actlab playground`'s live training: one frame is one epoch and its picture.

Two measurements per configuration:
  worker   the training thread's own loop (epoch, frame, binary encoding) with torch on one thread;
  served   frames a websocket client receives from a real uvicorn server on localhost while playing
           (the server skips drawing while the page has not taken the last frame, so this counts
           the pictures a page gets, and the epochs may run ahead of them).

Configurations: the default network (inputs x1, x2; hidden layers of 4 and 2 tanh neurons; 100 × 100 map;
Playground's circle, 500 points, half for training, batches of 10, SGD) and many-seeds mode with 16 seeds
(16 maps of 40 × 40). Targets (issue 17, on 2 cores): ≥ 20 and ≥ 5 frames / s.

    python benchmarks/bench_playground.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time

import torch

from actlab.app.playground import frames
from actlab.app.playground.config import parse
from actlab.app.playground.server import create_app
from actlab.app.playground.trainer import Trainer

CONFIGS = {"default (4-2 tanh, 100×100 map)": {}, "many seeds (16 seeds, 16 maps of 40×40)": {"seeds": 16}}


def worker_fps(raw: dict[str, object], seconds: float) -> tuple[float, int]:
    torch.set_num_threads(1)
    trainer = Trainer(parse(raw))
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        trainer.epoch()
        frames.encode(*trainer.frame())
        n += 1
    return n / (time.perf_counter() - start), trainer.epoch_count


def served_fps(url: str, raw: dict[str, object], seconds: float) -> tuple[float, int]:
    from websockets.sync.client import connect

    with connect(url, max_size=None) as ws:
        ws.send(json.dumps({"type": "config", "config": raw}))
        ws.send(json.dumps({"type": "play"}))
        count, epoch, start = 0, 0, None
        while True:
            msg = ws.recv()
            if isinstance(msg, bytes):
                header, _ = frames.decode(msg)
                if start is None and header["epoch"] > 0:
                    start = time.perf_counter()
                elif start is not None:
                    count += 1
                    epoch = header["epoch"]
            if start is not None and time.perf_counter() - start >= seconds:
                ws.send(json.dumps({"type": "pause"}))
                return count / (time.perf_counter() - start), epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available, the trainer on 1")
    for name, raw in CONFIGS.items():
        fps, epochs = worker_fps(raw, args.seconds)
        print(f"{name:42s} worker {fps:6.1f} frames/s ({epochs} epochs)")
        fps, epochs = served_fps(f"ws://127.0.0.1:{port}/ws", raw, args.seconds)
        print(f"{name:42s} served {fps:6.1f} frames/s (to epoch {epochs})")
    server.should_exit = True
    thread.join(10)


if __name__ == "__main__":
    main()
