"""Matplotlib helpers shared by the report's sections: one colour per name, PNG bytes out."""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
                     "figure.dpi": 110})

_PALETTE = [plt.get_cmap("tab10")(i)[:3] for i in range(10)] + [plt.get_cmap("Dark2")(i)[:3] for i in range(8)]


_ASSIGNED: dict[str, tuple[float, ...]] = {}


def assign(names: list[str]) -> None:
    """Fix the colours of a report: every name gets its own (sorted order), used by every figure."""
    _ASSIGNED.clear()
    _ASSIGNED.update({n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(sorted(set(names)))})


def colours(names: list[str]) -> dict[str, tuple[float, ...]]:
    """A colour per name: the report's assignment where there is one, else by sorted order."""
    fallback = {n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(sorted(set(names)))}
    return {n: _ASSIGNED.get(n, fallback[n]) for n in names}


def png(fig: Figure) -> str:
    """The figure as a base64 PNG data URI (and closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def finish_grid(fig: Figure, axes: Any, used: int, legend_columns: int | None = None) -> str:
    """Hide the grid's unused panels, lay it out, put the first panel's legend under it; PNG data URI."""
    flat = [ax for row in axes for ax in row]
    for ax in flat[used:]:
        ax.axis("off")
    fig.tight_layout()
    if legend_columns:
        handles, labels = flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=legend_columns,
                   frameon=False)
    return png(fig)
