"""Ready-made model factories for `compare` (the presets' models): `make(activation) -> nn.Module`."""

from __future__ import annotations

import copy

from torch import nn


def digits_mlp(activation: nn.Module) -> nn.Module:
    """scikit-learn's digits (64 features, 10 classes): 64-64-64-10, the activation after each hidden layer."""
    return nn.Sequential(nn.Linear(64, 64), activation, nn.Linear(64, 64), copy.deepcopy(activation), nn.Linear(64, 10))


def mnist1d_mlp(activation: nn.Module) -> nn.Module:
    """MNIST-1D (40 features, 10 classes): 40-100-100-10."""
    return nn.Sequential(nn.Linear(40, 100), activation, nn.Linear(100, 100), copy.deepcopy(activation),
                         nn.Linear(100, 10))
