"""`simulate`: the mean-field quantities measured in real random deep networks, to hold the theory to.

A fully connected network of `depth` layers and `width` units, W ~ N(0, σw²/n), b ~ N(0, σb²),
gets pairs of inputs whose first-layer pre-activations have length q0 and correlation c0 (built
exactly: orthogonalised and scaled). Per layer it records the length q^l = mean_i (h_i^l)² (all
inputs averaged), the correlation c^l = h¹·h² / (|h¹||h²|) (pairs averaged), and, for
the loss L = g·h^depth with g ~ N(0, I), log10 of ‖∂L/∂h^l‖² / ‖∂L/∂h^depth‖² — the quantities of
`propagation(...).layers`. The gradient flows through the activation's own backward (the closed
form for catalog entries).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from actlab.analysis.maps import Maps
from actlab.core.activation import AbstractActivation
from actlab.core.errors import ParameterError
from actlab.core.registry import create
from actlab.core.threads import on_one_thread


@on_one_thread
def simulate(target: object, sigma_w: float, sigma_b: float, *, width: int = 1000, depth: int = 50,
             seeds: int = 4, pairs: int = 4, q0: float = 1.0, c0: float = 0.5) -> dict[str, Any]:
    """Per-seed measurements: {'q', 'c', 'log10_grad'}, each a list of `seeds` lists of `depth` floats.

    Each network gets `pairs` pairs of inputs (length q0, correlation c0 within a pair); q and c are
    averaged over them, which divides the finite-width scatter of one input by about √pairs."""
    if width < 2 or depth < 1 or seeds < 1 or pairs < 1:
        raise ParameterError(f"need width ≥ 2 and depth, seeds, pairs ≥ 1; got {width}, {depth}, {seeds}, {pairs}")
    act = _callable(target)
    runs = [_one(act, sigma_w, sigma_b, width, depth, seed, pairs, q0, c0) for seed in range(seeds)]
    return {k: [r[k] for r in runs] for k in ("q", "c", "log10_grad")}


def _one(act: Any, sigma_w: float, sigma_b: float, width: int, depth: int, seed: int, pairs: int, q0: float,
         c0: float) -> dict[str, list[float]]:
    gen = torch.Generator().manual_seed(seed)
    # first-layer pre-activations: pairs (a, c0·a + s·b) with a ⟂ b, both of length exactly q0
    a, b = torch.randn(2, pairs, width, generator=gen, dtype=torch.float64)
    a = a / a.norm(dim=1, keepdim=True)
    b = b - (b * a).sum(1, keepdim=True) * a
    b = b / b.norm(dim=1, keepdim=True)
    h = torch.cat([a, c0 * a + math.sqrt(1 - c0 * c0) * b]) * math.sqrt(q0 * width)
    hs = [h.requires_grad_(True)]
    for _ in range(depth - 1):
        w = torch.randn(width, width, generator=gen, dtype=torch.float64) * (sigma_w / math.sqrt(width))
        bias = torch.randn(width, generator=gen, dtype=torch.float64) * sigma_b
        hs.append(act(hs[-1]) @ w.T + bias)
    g = torch.randn(width, generator=gen, dtype=torch.float64)
    grads = torch.autograd.grad((hs[-1] * g).sum(), hs)
    top = float((grads[-1] ** 2).sum())
    with torch.no_grad():
        q = [float((x * x).mean()) for x in hs]
        c = [float(((x[:pairs] * x[pairs:]).sum(1) / (x[:pairs].norm(dim=1) * x[pairs:].norm(dim=1))).mean())
             for x in hs]
        grad = [math.log10(max(float((d**2).sum()), 1e-300) / top) for d in grads]
    return {"q": q, "c": c, "log10_grad": grad}


def _callable(target: object) -> Any:
    """The activation with autograd through its own backward, in float64."""
    act = create(target) if isinstance(target, str) else target
    if isinstance(act, AbstractActivation):
        Maps(act)  # the same checks as the theory (elementwise, or a mixed layer)
        return act.double().eval()
    if isinstance(act, torch.nn.Module):
        return act.double().eval()
    if callable(act):
        return act
    raise ParameterError(f"cannot simulate {type(target).__name__}: give a spec string, a module or a callable")


def compare(theory: dict[str, list[float]], measured: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """Per layer and quantity: theory, the measured mean over seeds, the seeds' standard deviation."""
    out: dict[str, dict[str, list[float]]] = {}
    for key in ("q", "c", "log10_grad"):
        runs = torch.tensor(measured[key], dtype=torch.float64)
        std = runs.std(0) if runs.shape[0] > 1 else torch.zeros(runs.shape[1], dtype=torch.float64)
        out[key] = {"theory": list(theory[key]), "mean": runs.mean(0).tolist(), "std": std.tolist()}
    return out
