"""`monitor`: watch every activation layer of any nn.Module while it trains; `diagnose`: one pass over a dataset.

    with actlab.monitor(model, every=10) as mon:
        for x, y in loader:                     # an ordinary training loop, unchanged
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(); loss.backward(); opt.step()
    mon.rows()                                  # [{step, layer, metric, value}, ...]

A *step* is one call of the model's own forward while it is in train mode (a forward pre-hook on
the model counts them, from 0); steps 0, every, 2·every, ... are recorded. On the other steps
every hook returns at once. A record computes its statistics under no_grad on detached tensors,
a few passes per layer, and leaves them as tensors on their device. FLUSH_EVERY records at a time
they move to the host in one transfer per device, so a GPU is not synchronised inside a step. The
quantiles, histograms and the table are computed from them when they are read (or when
SORT_LIMIT sample values wait for it). docs/monitor.md defines every metric.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from actlab.core import validate
from actlab.core.errors import ParameterError, ParameterTypeError
from actlab.diagnostics.figures import (
    QUANTILES,
    Histogram,
    histogram_edges,
    quantiles,
    scalars,
    shares,
    to_numpy,
    write_figures,
)
from actlab.diagnostics.layers import Layer, Measured, Skipped, UnitStats, find_layers

_Q = tuple(f"q{round(100 * q):02d}" for q in QUANTILES)
PRE = ("pre_mean", "pre_std", *(f"pre_{q}" for q in _Q), "saturated_fraction", "dead_fraction")
POST = ("post_mean", "post_std", *(f"post_{q}" for q in _Q))
FLUSH_EVERY = 32
"""Records kept as tensors before they move to the host (all at once: a few calls, not a few per layer)."""
SORT_LIMIT = 2**24
"""Sample values kept unsorted on the host (64 MiB as float32) before their quantiles and histograms are
computed without waiting for a read."""
QUANTILE_LIMIT = 2**24
"""torch.quantile's largest input: with sample=None, larger tensors are sampled down to this."""
METRICS = (*PRE, *POST, "grad_norm", "param_grad_norm", "update_ratio")
SUMMARY = ("dead_fraction", "saturated_fraction", "grad_norm", "pre_mean", "pre_std")
UNIT_METRICS = ("saturated_fraction", "dead", "pre_mean", "pre_std")
"""Per-unit arrays kept at each record (`Monitor.units`)."""
_T = TypeVar("_T")


class _Site:
    """One call position of an activation layer per forward (a module called twice is two sites)."""

    def __init__(self, name: str, layer: Layer) -> None:
        self.name, self.layer = name, layer
        self.edges: np.ndarray | None = None
        self.positions = slice(None)  # this call's sample of elements, shared by pre and post
        self.hist: dict[int, np.ndarray] = {}
        self.stats: dict[int, UnitStats] = {}  # per recorded step; the derived metrics are computed when read


@dataclass
class _Pending:
    """Records whose tensors are not yet numbers (kept on their device, turned into numbers together)."""

    records: int = 0
    pre: list[tuple[_Site, int, Measured, Tensor]] = field(default_factory=list)  # site, step, reductions, sample
    post: list[tuple[_Site, int, Tensor, Tensor, Tensor]] = field(default_factory=list)  # site, step, mean, std, sample
    scalars: list[tuple[int, str, str, Tensor]] = field(default_factory=list)  # step, layer, metric, 0-d value
    updates: list[tuple[int, list[Tensor], list[Tensor]]] = field(default_factory=list)  # step, ‖Δw‖, ‖w‖


class _PreBlock(NamedTuple):
    """One site's pre-activation records of one shape, as numbers: row r is step steps[r]."""

    site: _Site
    steps: list[int]
    inputs: list[int]
    samples: list[np.ndarray]  # one per record, unsorted until tabulated
    units: list[np.ndarray]  # Measured.tensors(), each records × units
    undefined: bool  # Measured.undefined when it is one flag for all units (else it is in `units`)


class _PostBlock(NamedTuple):
    """One site's post-activation records of one sample size, as numbers."""

    site: _Site
    steps: list[int]
    samples: list[np.ndarray]  # one per record, unsorted until tabulated
    moments: np.ndarray  # records × (mean, std)


class _Numbers(NamedTuple):
    """One flush's records as numpy arrays; they become the table (`Monitor._data`, the sites) when read."""

    pre: list[_PreBlock]
    post: list[_PostBlock]
    keys: list[tuple[int, str, str]]  # step, layer, metric of each of `values`
    values: np.ndarray


def _pre_block(group: list[tuple[_Site, int, Measured, Tensor]], arrays: Iterator[np.ndarray]) -> _PreBlock:
    """One site's pre records of one shape as numbers: its samples, then stacks of Measured.tensors()."""
    first, r = group[0][2], len(group)
    samples = [next(arrays) for _ in group]
    return _PreBlock(group[0][0], [step for _, step, _, _ in group], [m.inputs for _, _, m, _ in group], samples,
                     [next(arrays).reshape(r, -1) for _ in first.tensors()],
                     first.undefined if isinstance(first.undefined, bool) else False)


def _post_block(group: list[tuple[_Site, int, Tensor, Tensor, Tensor]], arrays: Iterator[np.ndarray]) -> _PostBlock:
    """One site's post records of one sample size as numbers: its samples, then stacks of the means and stds."""
    samples = [next(arrays) for _ in group]
    return _PostBlock(group[0][0], [step for _, step, *_ in group], samples, np.stack([next(arrays), next(arrays)], 1))


def _groups(entries: list[_T], key: Callable[[_T], Hashable]) -> list[list[_T]]:
    """`entries` split by `key`, each group in order, the groups in the order of their first entries."""
    groups: dict[Hashable, list[_T]] = {}
    for e in entries:
        groups.setdefault(key(e), []).append(e)
    return list(groups.values())


def _site_name(layer: Layer, call: int) -> str:
    return layer.name if call == 0 else f"{layer.name}#{call}"


class Monitor:
    """Hooks on a model's activation layers, parameters and forward; the records they make. See `monitor`."""

    def __init__(self, model: nn.Module, every: int = 1, *, eps: float = 0.05, bins: int = 64,
                 sample: int | None = 4096, unit_dim: int = 1) -> None:
        _check_model("monitor", model)
        self.model = model
        self.every = validate.integer("monitor", "every", every, low=1)
        self.eps = _check_eps("monitor", eps)
        self.bins = validate.integer("monitor", "bins", bins, low=1)
        self.sample = None if sample is None else validate.integer("monitor", "sample", sample, low=1)
        self.unit_dim = validate.integer("monitor", "unit_dim", unit_dim, low=-64)
        self._layers, self.skipped = find_layers(model)
        self.layers: dict[str, str] = {layer.name: layer.spec for layer in self._layers}
        """Monitored activation modules: name -> the spec of the activation judging them."""
        self._params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.forwards = 0
        """Training forwards seen so far (the next step's number)."""
        self.recorded: list[int] = []
        self._sites: dict[tuple[int, int], _Site] = {}
        self._calls = [0] * len(self._layers)
        self._open: dict[int, _Site] = {}
        self._data: dict[int, dict[str, dict[str, float]]] = {}  # step -> layer -> metric -> value
        self._pending = _Pending()
        self._numbers: list[_Numbers] = []  # flushed records, not yet in _data and the sites
        self._unsorted = 0  # sample values in _numbers
        self._handles: list[RemovableHandle] = []
        self._tensor_handles: list[RemovableHandle] = []
        self._recording = False  # inside a recorded step's forward
        self._grad_step: int | None = None  # the recorded step whose backward is awaited
        self._snapshot: tuple[int, list[Tensor]] | None = None  # a recorded step and its weights' norms
        self._weights: list[Tensor] | None = None
        self._scratch: Tensor | None = None  # see _buffer
        self._random = random.Random(0)  # the sample's starting points (never torch's generator)

    # --- attaching ---------------------------------------------------------------------------
    def __enter__(self) -> Monitor:
        if self._handles:
            raise ParameterError("this monitor is already attached; a `with` block cannot nest it")
        m = self.model
        self._handles.append(m.register_forward_pre_hook(self._on_root_pre))  # before any layer's hooks
        for i, layer in enumerate(self._layers):
            self._handles.append(layer.module.register_forward_pre_hook(partial(self._on_pre, i)))
            self._handles.append(layer.module.register_forward_hook(partial(self._on_post, i)))
        self._handles.append(m.register_forward_hook(self._on_root_post))  # after them (the root may be one)
        for name, p in self._params:
            self._handles.append(p.register_post_accumulate_grad_hook(partial(self._on_param_grad, name)))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None and self._snapshot is not None:
            self._finish_update()  # the last recorded step's update, if the body ended after opt.step()
        for h in self._handles + self._tensor_handles:
            h.remove()
        self._handles, self._tensor_handles, self._snapshot, self._weights, self._scratch = [], [], None, None, None
        self._recording, self._grad_step = False, None
        self._flush()

    # --- hooks: each returns at once unless this step is recorded -------------------------------
    def _on_root_pre(self, module: nn.Module, args: Any) -> None:
        if not module.training:
            return
        step, self.forwards = self.forwards, self.forwards + 1
        if self._snapshot is not None:
            self._finish_update()
        if step % self.every:
            self._recording, self._grad_step = False, None
            return
        if self._pending.records >= FLUSH_EVERY:
            self._flush()
        self._pending.records += 1
        self._tensor_handles = [h for h in self._tensor_handles if h.hooks_dict_ref() is not None]
        self._recording, self._grad_step = True, step
        self._calls = [0] * len(self._layers)
        self.recorded.append(step)
        self._snapshot_params(step)

    def _on_root_post(self, module: nn.Module, args: Any, out: Any) -> None:
        self._recording, self._scratch = False, None

    def _on_pre(self, i: int, module: nn.Module, args: tuple) -> None:
        if not self._recording or not args or not isinstance(args[0], Tensor) or args[0].numel() == 0:
            return
        call, self._calls[i] = self._calls[i], self._calls[i] + 1
        site = self._sites.get((i, call))
        if site is None:
            site = self._sites[i, call] = _Site(_site_name(self._layers[i], call), self._layers[i])
        self._open[i] = site
        with torch.no_grad():
            self._record_pre(site, args[0], self.recorded[-1])

    def _on_post(self, i: int, module: nn.Module, args: tuple, out: Any) -> None:
        site = self._open.pop(i, None)
        if not self._recording or site is None or not isinstance(out, Tensor):
            return
        step = self.recorded[-1]
        with torch.no_grad():
            self._record_post(site, out, step)
        if out.requires_grad:  # on the output itself, so that nn.ReLU(inplace=True) works too
            self._tensor_handles.append(out.register_hook(partial(self._on_grad, step, site.name)))

    def _on_grad(self, step: int, name: str, g: Tensor) -> None:
        self._pending.scalars.append((step, name, "grad_norm", _norm(g.detach())))

    def _on_param_grad(self, name: str, p: Tensor) -> None:
        if self._grad_step is not None and p.grad is not None:  # a later backward of the same step overwrites
            self._pending.scalars.append((self._grad_step, name, "param_grad_norm", _norm(p.grad.detach())))

    # --- what a record computes: big-tensor reductions now, the rest after the flush ----------------
    def _record_pre(self, site: _Site, z: Tensor, step: int) -> None:
        measured = site.layer.measure(z, self.eps, self.unit_dim)
        self._pending.pre.append((site, step, measured, self._sample(site, z.detach())))

    def _record_post(self, site: _Site, y: Tensor, step: int) -> None:
        y = y.detach()
        y = y.float() if y.dtype in (torch.float16, torch.bfloat16) else y
        mean = y.mean()  # two passes: exact when mean² ≫ var
        std = torch.linalg.vector_norm(torch.sub(y, mean, out=self._buffer(y))) / math.sqrt(y.numel())
        self._pending.post.append((site, step, mean, std, y.reshape(-1)[site.positions].clone()))

    def _buffer(self, like: Tensor) -> Tensor:
        """A scratch tensor shaped like `like`, kept until the recorded forward ends: the sites of a model often
        share a shape, and on the CPU a large fresh tensor costs more than the pass that fills it."""
        b = self._scratch
        if b is None or b.shape != like.shape or b.dtype != like.dtype or b.device != like.device:
            b = self._scratch = torch.empty(like.shape, dtype=like.dtype, device=like.device)
        return b

    def _sample(self, site: _Site, z: Tensor) -> Tensor:
        """A copy of all elements, or of `sample` of them: a systematic sample (every s-th element from a random
        start, s coprime to the element count so that every unit and position is reached). No random numbers
        are drawn from torch, so the user's random stream is untouched; pre and post share the positions."""
        z = z.float() if z.dtype in (torch.float16, torch.bfloat16) else z
        flat = z.reshape(-1)
        n, limit = flat.numel(), self.sample or QUANTILE_LIMIT
        if n <= limit:
            site.positions = slice(None)
            return flat.clone()  # z may be overwritten in place (nn.ReLU(inplace=True))
        stride = n // limit
        while math.gcd(stride, n) > 1:
            stride -= 1
        start = self._random.randrange(n - (limit - 1) * stride)
        site.positions = slice(start, start + (limit - 1) * stride + 1, stride)
        return flat[site.positions].clone()

    def _snapshot_params(self, step: int) -> None:
        """Copy the weights this recorded forward uses (into buffers kept between records) and their norms."""
        params = [p.detach() for _, p in self._params]
        if not params:
            return
        if self._weights is None:
            self._weights = [p.clone() for p in params]
        else:
            torch._foreach_copy_(self._weights, params)
        self._snapshot = (step, list(torch._foreach_norm(params)))

    def _finish_update(self) -> None:
        """‖Δw‖/‖w‖ per parameter between the recorded step's forward and now (the next forward, or exit)."""
        assert self._snapshot is not None and self._weights is not None
        (step, base), self._snapshot = self._snapshot, None
        torch._foreach_sub_(self._weights, [p.detach() for _, p in self._params])  # the buffers now hold −Δw
        self._pending.updates.append((step, list(torch._foreach_norm(self._weights)), base))

    # --- flush: the pending tensors move to the host; tabulate: they become the table ------------------
    def _flush(self) -> None:
        """Move the pending records to the host, one transfer per device and dtype (none on the CPU): the
        samples as they are, the other statistics stacked per site and shape. The samples are sorted later
        (`_tabulate`), when read or when SORT_LIMIT values wait."""
        p, self._pending = self._pending, _Pending()
        if not (p.pre or p.post or p.scalars or p.updates):
            return
        pre = _groups(p.pre, lambda e: (e[0], e[3].shape, e[3].dtype, e[3].device, e[2].mean.shape))
        post = _groups(p.post, lambda e: (e[0], e[4].shape, e[4].dtype, e[4].device))
        tensors: list[Tensor] = []  # per group its samples (a stack would copy them), then its small stacks
        for g in pre:
            tensors += [s for *_, s in g] + [torch.stack(c) for c in zip(*[m.tensors() for _, _, m, _ in g])]
        for h in post:
            tensors += [s for *_, s in h] + [torch.stack(c) for c in zip(*[(mu, sd) for *_, mu, sd, _ in h])]
        arrays = iter(to_numpy(tensors))
        pre_blocks, post_blocks = [_pre_block(g, arrays) for g in pre], [_post_block(g, arrays) for g in post]
        values = scalars([t for *_, t in p.scalars] + [t for _, dw, w in p.updates for t in dw + w])
        dw, w = values[len(p.scalars):].reshape(len(p.updates), 2, len(self._params)).transpose(1, 0, 2)
        with np.errstate(divide="ignore", invalid="ignore"):  # ‖w‖ = 0: inf, or nan when ‖Δw‖ = 0 too
            ratios = (dw / w).ravel()
        keys = [(step, layer, metric) for step, layer, metric, _ in p.scalars] + [
            (step, name, "update_ratio") for step, *_ in p.updates for name, _ in self._params]
        self._numbers.append(_Numbers(pre_blocks, post_blocks, keys, np.concatenate([values[:len(p.scalars)], ratios])))
        self._unsorted += sum(a.size for b in pre_blocks for a in b.samples)
        self._unsorted += sum(a.size for h in post_blocks for a in h.samples)
        if self._unsorted > SORT_LIMIT:
            self._tabulate()

    def _tabulate(self) -> None:
        """Move the flushed records into the table (step -> layer -> metric) and the sites: one sort per block
        of samples for its quantiles (and for pre-activations, histograms)."""
        for numbers in self._numbers:
            for block in numbers.pre:
                self._tabulate_pre(block)
            for post in numbers.post:
                ordered = np.sort(np.stack(post.samples), axis=1)  # nan last
                for step, q, moments in zip(post.steps, quantiles(ordered).tolist(), post.moments.tolist()):
                    self._put(step, post.site.name, POST, [*moments, *q])
            for (step, layer, metric), v in zip(numbers.keys, numbers.values.tolist()):
                d = self._data.setdefault(step, {}).setdefault(layer, {})
                # several backward passes through one output: the root of the sum of their squared norms
                d[metric] = math.hypot(d.get(metric, 0.0), v) if metric == "grad_norm" else v
        self._numbers, self._unsorted = [], 0

    def _tabulate_pre(self, block: _PreBlock) -> None:
        """A block of pre records into the table and its site: quantiles, histograms, per-unit statistics."""
        site, (mean, squares, sat, peak, *flags) = block.site, block.units
        ordered = np.sort(np.stack(block.samples), axis=1)  # nan last
        q = quantiles(ordered)
        if site.edges is None:  # fixed at the first record, so that the histograms stack into a heat map
            site.edges = histogram_edges(site.layer.profile.active_range, float(q[0, 0]), float(q[0, -1]), self.bins)
        hist = shares(ordered, np.broadcast_to(site.edges, (len(block.steps), len(site.edges))))
        for r, step in enumerate(block.steps):
            self._put(step, site.name, PRE[2:9], q[r].tolist())
            site.hist[step] = hist[r]
            site.stats[step] = UnitStats.of(block.inputs[r], mean[r], squares[r], sat[r], peak[r],
                                            flags[0][r] if flags else block.undefined)

    def _read(self) -> None:
        """Everything recorded so far into the table: flush, then tabulate."""
        self._flush()
        self._tabulate()

    def _put(self, step: int, layer: str, names: Iterable[str], values: Iterable[float]) -> None:
        self._data.setdefault(step, {}).setdefault(layer, {}).update(zip(names, values))

    # --- results ------------------------------------------------------------------------------
    def _table(self) -> dict[int, dict[str, dict[str, float]]]:
        """step -> layer -> metric -> value, in model order (sites as first called, then parameters)."""
        self._read()
        data = {s: {layer: dict(ms) for layer, ms in layers.items()} for s, layers in self._data.items()}
        for site in self._sites.values():
            for s, stats in site.stats.items():
                data[s][site.name].update(stats.pooled())
        names = [s.name for s in self._sites.values()] + [n for n, _ in self._params]
        rank = {n: k for k, n in enumerate(names)}
        return {s: {layer: {m: layers[layer][m] for m in sorted(layers[layer], key=METRICS.index)}
                    for layer in sorted(layers, key=lambda n: rank.get(n, len(rank)))} for s, layers in data.items()}

    def rows(self) -> list[dict[str, Any]]:
        """The tidy table: one dict {step, layer, metric, value} per recorded step × layer × metric.

        `layer` is an activation site (its module name; `name#k` for the k-th further call of a module
        in one forward) or, for `param_grad_norm` and `update_ratio`, a parameter's name.
        """
        return [{"step": s, "layer": layer, "metric": m, "value": v}
                for s, layers in self._table().items() for layer, ms in layers.items() for m, v in ms.items()]

    def to_csv(self, path: str | Path) -> Path:
        """Write `rows()` to a CSV file (columns step, layer, metric, value); return its path."""
        path = Path(path)
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["step", "layer", "metric", "value"])
            w.writeheader()
            w.writerows(self.rows())
        return path

    def frame(self) -> Any:
        """`rows()` as a pandas DataFrame (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Monitor.frame() needs pandas (pip install pandas); "
                              "Monitor.rows() and Monitor.to_csv() give the same table without it") from e
        return pd.DataFrame(self.rows(), columns=["step", "layer", "metric", "value"])

    def units(self, metric: str) -> dict[str, dict[int, np.ndarray]]:
        """Per-unit values: {layer: {step: array over units}} for one of UNIT_METRICS (`dead` is boolean)."""
        if metric not in UNIT_METRICS:
            raise ParameterError(f"unknown per-unit metric {metric!r}; allowed: {', '.join(UNIT_METRICS)}")
        self._read()
        return {site.name: {s: stats.table()[metric] for s, stats in site.stats.items()}
                for site in self._sites.values() if site.stats}

    def histogram(self, layer: str) -> Histogram:
        """The pre-activation histograms of one activation site over the recorded steps."""
        self._read()
        sites = {s.name: s for s in self._sites.values() if s.edges is not None}
        if layer not in sites:
            raise ParameterError(f"no histogram for {layer!r}; recorded layers: {', '.join(sites) or 'none yet'}")
        s = sites[layer]
        steps = sorted(s.hist)
        assert s.edges is not None
        return Histogram(s.edges.copy(), np.array(steps), np.stack([s.hist[k] for k in steps]))

    def series(self, metric: str) -> dict[str, tuple[list[int], list[float]]]:
        """{layer: (steps, values)} of one metric, for curves."""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for row in self.rows():
            if row["metric"] == metric:
                steps, values = out.setdefault(row["layer"], ([], []))
                steps.append(row["step"])
                values.append(row["value"])
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-able digest for a results store: per activation site, its last record (nan -> None)."""
        table, layers = self._table(), {}
        for site in self._sites.values():
            if site.stats:
                last = max(site.stats)
                values = table[last][site.name]
                layers[site.name] = {"activation": site.layer.spec, "units": len(site.stats[last].mean), "step": last,
                                     **{k: _json(values.get(k)) for k in SUMMARY}}
        return {"every": self.every, "eps": self.eps, "forwards": self.forwards, "recorded": len(self.recorded),
                "layers": layers, "skipped": [list(s) for s in self.skipped]}

    def figures(self, directory: str | Path) -> list[Path]:
        """Write histograms.png (heat map per layer), saturation.png (saturated and dead fractions) and
        gradients.png (activation and parameter gradient norms, update ratios) into `directory`."""
        self._read()
        hists = {f"{s.name} ({s.layer.spec})": self.histogram(s.name) for s in self._sites.values() if s.stats}
        if not hists:
            raise ParameterError("nothing recorded yet: call the model in train mode inside `with monitor(...)`")
        return write_figures(Path(directory), hists, self.series)


def _norm(t: Tensor) -> Tensor:
    """The 2-norm, accumulated in float32 at least (a float16 sum of squares overflows at 256²)."""
    return torch.linalg.vector_norm(t, dtype=torch.float32 if t.dtype in (torch.float16, torch.bfloat16) else None)


def _json(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else v


def monitor(model: nn.Module, every: int = 1, *, eps: float = 0.05, bins: int = 64, sample: int | None = 4096,
            unit_dim: int = 1) -> Monitor:
    """Monitor every activation layer of `model`; use as `with monitor(model, every=10) as mon: <train>`.

    Records steps 0, every, 2·every, ... (a step = one forward of `model` in train mode). `eps`: an input
    is saturated where |f'(z)| < eps·max|f'| by the activation's own f'. `bins`: histogram bins between
    the two outer ones. `sample`: quantiles and histograms use at most this many elements per layer and
    step (None: all). `unit_dim`: the dim whose index is a unit (1: features of a Linear, channels of a
    conv). Hooks are removed when the block ends, also on an exception. docs/monitor.md has the details.
    """
    return Monitor(model, every, eps=eps, bins=bins, sample=sample, unit_dim=unit_dim)


# --- diagnose -------------------------------------------------------------------------------------
@dataclass
class Diagnosis:
    """What `diagnose` found: one row per unit, one per layer, and the activation-like modules skipped."""

    units: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def diagnose(model: nn.Module, data: Tensor | Iterable[Any], *, batch_size: int = 256, eps: float = 0.05,
             unit_dim: int = 1) -> Diagnosis:
    """Run `model` in eval() under no_grad over a whole dataset; dead and saturated units, pre-activation moments.

    `data`: a tensor of inputs (split into `batch_size` rows), or an iterable of batches, each a
    tensor or a tuple / list whose first element is the input (a DataLoader yielding (x, y)). A unit
    is dead if f' was exactly 0 on every input of the dataset. The model's modes are restored after.
    """
    _check_model("diagnose", model)
    batch_size = validate.integer("diagnose", "batch_size", batch_size, low=1)
    eps = _check_eps("diagnose", eps)
    unit_dim = validate.integer("diagnose", "unit_dim", unit_dim, low=-64)
    layers, skipped = find_layers(model)
    pooled: dict[str, tuple[Layer, UnitStats]] = {}
    calls = [0] * len(layers)

    def pre(i: int, module: nn.Module, args: tuple) -> None:
        if args and isinstance(args[0], Tensor) and args[0].numel():
            name = _site_name(layers[i], calls[i])
            calls[i] += 1
            u = layers[i].measure(args[0], eps, unit_dim).numpy()
            pooled[name] = (layers[i], pooled[name][1].merge(u) if name in pooled else u)

    handles = [layer.module.register_forward_pre_hook(partial(pre, i)) for i, layer in enumerate(layers)]
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            for x in _batches(data, batch_size, next(model.parameters(), None)):
                calls[:] = [0] * len(layers)
                model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    return _diagnosis(pooled, skipped)


def _batches(data: Any, batch_size: int, like: Tensor | None) -> Iterator[Tensor]:
    items = data.split(batch_size) if isinstance(data, Tensor) else data
    if not isinstance(items, Iterable):
        raise ParameterTypeError(f"diagnose: data must be a tensor or an iterable of batches, "
                                 f"got {type(data).__name__}")
    for item in items:
        x = item[0] if isinstance(item, (tuple, list)) and item else item
        if not isinstance(x, Tensor):
            raise ParameterTypeError("diagnose: each batch must be a tensor or a tuple / list whose first element "
                                     f"is the input tensor, got {type(item).__name__}")
        yield x if like is None else x.to(like.device)


def _diagnosis(pooled: dict[str, tuple[Layer, UnitStats]], skipped: list[Skipped]) -> Diagnosis:
    out = Diagnosis(skipped=list(skipped))
    for name, (layer, u) in pooled.items():
        table = {k: v.tolist() for k, v in u.table().items()}
        out.units += [{"layer": name, "unit": k, **{m: table[m][k] for m in UNIT_METRICS}} for k in range(len(u.mean))]
        out.layers.append({"layer": name, "activation": layer.spec, "units": len(u.mean), "inputs_per_unit": u.count,
                           **u.pooled()})
    return out


def _check_model(owner: str, model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise ParameterTypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")


def _check_eps(owner: str, eps: Any) -> float:
    eps = validate.real(owner, "eps", eps)
    if not 0 < eps < 1:
        raise ParameterError(f"{owner}: eps must be in (0, 1) (a fraction of max|f'|), got {eps:g}")
    return eps
