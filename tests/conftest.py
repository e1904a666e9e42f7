"""Shared parametrisation: every registered name, plus variants that exercise other code paths."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
import torch

import actlab


def chromium() -> str:
    """Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded), or a skip."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("no Chromium here (Debian's chromium package; .ci/run installs it where it can)")
    return exe


def launch(playwright: Any) -> Any:
    """Headless Debian Chromium through Playwright (skips where there is none), as every browser test starts it."""
    return playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-gpu",
                                                                         "--disable-dev-shm-usage"])


def local_only(outside: list[str]) -> Any:
    """A Playwright route handler that lets file:, data: and localhost requests through and aborts (and records
    in `outside`) every other one."""
    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")) or re.match(r"(https?|wss?)://(localhost|127\.0\.0\.1)(:\d+)?/", url):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    return route


def make64(spec: str) -> actlab.AbstractActivation:
    """Build with float64 as the default dtype, so learnable initial values such as 0.7 are exact."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return actlab.create(spec).double()
    finally:
        torch.set_default_dtype(old)

EXTRA_SPECS = [
    "prelu(num_parameters=3)",
    "snake(a=0.25, num_parameters=3)",
    "snake(a=1e-07)",
    "snake_beta(alpha=0.5, beta=2.0, num_parameters=2)",
    "swish(beta=0.7, learnable=True)",
    "swish(learnable=True, num_parameters=3)",
    "acon_c(p1=0.8, p2=-0.4, beta=2.0, num_parameters=3)",
    "acon_c(p1=1.5, p2=0.25, beta=-1.0)",
    "leaky_relu(negative_slope=0.2)",
    "leaky_relu6(negative_slope=0.1, cap=4.0, cap_slope=0.05)",
    "elu(alpha=2.0)",
    "celu(alpha=0.5)",
    "hard_tanh(min_val=-2.0, max_val=3.0, slope=0.5)",
    "softplus(beta=2.0, threshold=10.0)",
    "threshold(threshold=-0.5, value=-1.0)",
    "gelu(approximate='tanh')",
    "noisy_hard_tanh(mode='input')",
    "noisy_hard_tanh(mode='input_learned', noise='half_normal', num_parameters=3)",
    "noisy_hard_sigmoid(mode='input', p=0.5)",
    "noisy_hard_sigmoid(alpha=0.9, noise='normal')",
    "noisy_hard_tanh(alpha=1.0)",
    "mixed(acts=['cos', 'identity'])",
    "mixed(acts=['relu', 'tanh', 'snake(a=0.5)'])",
    "meta_acon(channels=8, r=4)",
    "softmax(dim=1)",
    "sparsemax(dim=1)",
    "squareplus(b=0.5)",
    "squareplus(b=0.0)",
    "glu(dim=1)",
    "gated_unit(gate='gelu_tanh')",
    "star_relu(num_parameters=3)",
    "expr:x*sigmoid(x)",
    "expr:x*sigmoid(beta*x); beta=0.7",
    "expr:a*x + (1 - a)*sin(x); a=0.25, num_parameters=3",
    "expr:where(x > 0, x, 0.1*x) + 0.5*sin(pi*x)",
]

ALL_SPECS = actlab.names() + EXTRA_SPECS
