"""Signal propagation for the whole catalog, and the theory against random deep networks.

Prints, for every elementwise catalog entry: χ₁ under PyTorch's default, LeCun and He initialisation,
the edge of chaos at σb = 0 and 0.2, and the time the analysis took. Then, for a few activations at
chosen (σw, σb), random MLPs of width 1000 and depth 50 (4 networks, 4 input pairs each) against the
mean-field maps: the largest gap over the 50 layers between the networks' mean and the theory, and
one network's own scatter (std over networks, averaged over layers) — the finite-width fluctuation.

    python benchmarks/bench_propagation.py [--quick]
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

import actlab
from actlab.analysis.deepnet import simulate
from actlab.analysis.maps import maps_of
from actlab.analysis.propagation import INITS, edge_curve, fixed_point, propagation

CASES = [("tanh", 1.5, 0.3), ("tanh", 1.0, 0.05), ("relu", math.sqrt(2), 0.0), ("gelu", 1.3, 0.2),
         ("hard_tanh", 1.2, 0.1), ("selu", 1.0, 0.0), ("sigmoid", 4.0, 0.5)]


def catalog_table(names: list[str]) -> None:
    print(f"{'activation':24} {'pytorch χ₁':>11} {'lecun χ₁':>10} {'he χ₁':>10} {'EOC σw@σb=0':>12} "
          f"{'EOC σw@0.2':>11} {'time s':>7}")
    for name in names:
        t = time.perf_counter()
        try:
            maps = maps_of(name)
        except actlab.ActlabInputError:
            continue
        chis = []
        for sw, sb in INITS.values():
            _, length, chi1, _, _ = fixed_point(maps, sw, sb)
            chis.append("diverges" if length == "diverges" else f"{chi1:.4g}")
        eoc = edge_curve(maps)
        at = {c["sigma_b"]: c["sigma_w"] for c in eoc}
        cols = [f"{at[b]:.5g}" if at[b] is not None else "none" for b in (0.0, 0.2)]
        print(f"{name:24} {chis[0]:>11} {chis[1]:>10} {chis[2]:>10} {cols[0]:>12} {cols[1]:>11} "
              f"{time.perf_counter() - t:7.2f}")


def measured_table(seeds: int) -> None:
    print(f"\ntheory vs {seeds} random networks (width 1000, depth 50): max gap over layers | scatter of one network")
    print(f"{'activation':10} {'σw':>6} {'σb':>5} {'q rel gap':>10} {'q scatter':>10} {'c gap':>7} {'c scatter':>9} "
          f"{'log10 g gap':>11} {'g scatter':>9} {'g range':>8} {'s':>5}")
    for name, sw, sb in CASES:
        t = time.perf_counter()
        th = propagation(name, sw, sb, depth=50).layers
        m = simulate(name, sw, sb, width=1000, depth=50, seeds=seeds)
        row = []
        for key in ("q", "c", "log10_grad"):
            runs, theory = np.asarray(m[key]), np.asarray(th[key])
            gap = np.abs(runs.mean(0) - theory)
            if key == "q":
                gap, scatter = gap / theory, (runs.std(0) / theory).mean()
            else:
                scatter = runs.std(0).mean()
            row += [gap.max(), scatter]
        span = abs(th["log10_grad"][0])
        print(f"{name:10} {sw:6.3g} {sb:5.2g} {row[0]:10.3f} {row[1]:10.3f} {row[2]:7.3f} {row[3]:9.3f} "
              f"{row[4]:11.3f} {row[5]:9.3f} {span:8.2f} {time.perf_counter() - t:5.1f}")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    names = [n for n in actlab.names() if actlab.create(n).properties.elementwise]
    catalog_table(names[:8] if quick else names)
    measured_table(2 if quick else 4)
