"""`single_thread`: run small tensor programs on one torch thread, then give the user's setting back.

A small program (a few thousand elements per op) gains nothing from torch's intra-op pool and,
next to one busy process on a 2-core machine, runs many times slower on two threads than on one
(measured: the propagation of one activation took 1.1 s on one thread and 12-20 s on two while
other work ran). The analyser's functions wrap themselves in this.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import torch

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def single_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def on_one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: `fn` runs inside `single_thread()`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_thread():
            return fn(*args, **kwargs)

    return wrapper
