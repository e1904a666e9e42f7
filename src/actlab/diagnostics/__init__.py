"""Diagnostics: a monitor for any live nn.Module (dead and saturated units by each activation's own f',
pre- and post-activation statistics, gradient flow), and `diagnose` for one pass over a dataset."""

from actlab.diagnostics.layers import Skipped, find_layers, torch_equivalent
from actlab.diagnostics.monitor import Diagnosis, Histogram, Monitor, diagnose, monitor

__all__ = ["Diagnosis", "Histogram", "Monitor", "Skipped", "diagnose", "find_layers", "monitor", "torch_equivalent"]
