"""Reusable modules built on the catalog: recurrent layers with any gate activation, and schedules
for activation hyper-parameters (the noisy units' noise scale c)."""

from actlab.nn.anneal import Schedule, anneal
from actlab.nn.recurrent import GRU, LSTM

__all__ = ["GRU", "LSTM", "Schedule", "anneal"]
