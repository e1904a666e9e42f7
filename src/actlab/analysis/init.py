"""`init_`: initialise every Linear / Conv layer on the edge of chaos of the activation it feeds.

Which activation a layer feeds is read from the model itself. With an `example` input the model
runs once under hooks and the data flow decides: a layer feeds the activation module that
receives its output, directly or through modules that keep the unit layout (dropout, batch
norm, flatten, identity...). Without one, the order in which the modules are registered decides
(each layer feeds the next activation module before the next layer), which is right for
nn.Sequential and most hand-written MLPs and CNNs. Layers that feed no activation (the output
layer) and activations with no edge of chaos are left as they are and reported.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from actlab.analysis.maps import Maps, maps_of
from actlab.analysis.propagation import edge_curve, recommend
from actlab.core.activation import AbstractActivation
from actlab.core.convert import as_activation
from actlab.core.errors import ActlabInputError, ParameterTypeError
from actlab.core.threads import on_one_thread

LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@on_one_thread
def init_(model: nn.Module, example: Tensor | None = None, *, sigma_b: float = 0.0,
          generator: torch.Generator | None = None) -> list[dict[str, Any]]:
    """Draw W ~ N(0, σw²/fan_in) and b ~ N(0, σb²) for every layer feeding an activation, with (σw, σb)
    the edge-of-chaos point of that activation at `sigma_b` (or the nearest σb that has one).

    Returns one record per layer: {'layer', 'activation', 'sigma_w', 'sigma_b', 'note'}; `sigma_w`
    is None where the layer was left untouched (the note says why)."""
    if not isinstance(model, nn.Module):
        raise ParameterTypeError(f"init_ takes an nn.Module, got {type(model).__name__}")
    pairs = _traced(model, example) if example is not None else _in_order(model)
    cache: dict[str, dict[str, Any] | None | str] = {}
    records = []
    for layer_name, layer, act in pairs:
        records.append(_apply(layer_name, layer, act, sigma_b, cache, generator))
    return records


def _apply(layer_name: str, layer: nn.Module, act: AbstractActivation | None, sigma_b: float,
           cache: dict[str, Any], generator: torch.Generator | None) -> dict[str, Any]:
    record: dict[str, Any] = {"layer": layer_name, "activation": None, "sigma_w": None, "sigma_b": None}
    if act is None:
        return {**record, "note": "feeds no activation: left as it is"}
    spec = record["activation"] = act.spec
    if spec not in cache:
        try:
            maps = Maps(act) if act.properties.learnable else maps_of(spec)  # learnt values are not in the spec
            cache[spec] = recommend(maps, sigma_b, edge_curve(maps))
        except ActlabInputError as e:
            cache[spec] = f"not analysable ({e}): left as it is"
    point = cache[spec]
    if isinstance(point, str) or point is None:
        return {**record, "note": point or "no edge of chaos at any σb: left as it is"}
    weight, bias = layer.weight, layer.bias
    assert isinstance(weight, Tensor) and (bias is None or isinstance(bias, Tensor))
    with torch.no_grad():
        weight.copy_(_normal(weight, point["sigma_w"] / math.sqrt(weight[0].numel()), generator))
        if bias is not None:
            bias.copy_(_normal(bias, point["sigma_b"], generator))
    return {**record, "sigma_w": point["sigma_w"], "sigma_b": point["sigma_b"], "note": point["note"]}


def _normal(like: Tensor, std: float, generator: torch.Generator | None) -> Tensor:
    """N(0, std²) of like's shape, drawn on the CPU (reproducible from `generator` on any device)."""
    return (torch.randn(like.shape, generator=generator, dtype=torch.float64) * std).to(like)


def _in_order(model: nn.Module) -> list[tuple[str, nn.Module, AbstractActivation | None]]:
    """(layer name, layer, the next activation before the next layer) in registration order."""
    out: list[tuple[str, nn.Module, AbstractActivation | None]] = []
    for name, m in model.named_modules():
        if isinstance(m, LAYERS):
            out.append((name, m, None))
        elif out and out[-1][2] is None and (act := _activation(m)) is not None:
            out[-1] = (out[-1][0], out[-1][1], act)
    return out


def _traced(model: nn.Module, example: Tensor) -> list[tuple[str, nn.Module, AbstractActivation | None]]:
    """Pairs from one forward pass: a tensor remembers the layer it came from until an activation takes it."""
    source: dict[int, str] = {}
    keep: list[Tensor] = []  # holds every traced tensor, so that no id is reused during the pass
    feeds: dict[str, AbstractActivation] = {}
    names = {m: n for n, m in model.named_modules()}
    layers = {n: m for n, m in model.named_modules() if isinstance(m, LAYERS)}

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if not isinstance(output, Tensor):
            return
        keep.append(output)
        came = next((source[id(t)] for t in inputs if isinstance(t, Tensor) and id(t) in source), None)
        if isinstance(module, LAYERS):
            source[id(output)] = names[module]
        elif came is not None and (act := _activation(module)) is not None:
            feeds.setdefault(came, act)
        elif came is not None:
            source[id(output)] = came

    leaves = [m for m in model.modules() if not list(m.children()) or isinstance(m, AbstractActivation)]
    handles = [m.register_forward_hook(hook) for m in leaves]
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        model.train(training)
        for h in handles:
            h.remove()
    return [(n, m, feeds.get(n)) for n, m in layers.items()]


def _activation(module: nn.Module) -> AbstractActivation | None:
    return None if isinstance(module, LAYERS) else as_activation(module)
