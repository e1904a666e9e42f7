"""Reusable modules built on the catalog: recurrent layers with any gate activation, the MNIST-1D paper's
four classifiers with swappable activations (`actlab.nn.mnist1d.cnn("tanh")`, `mnist1d.MODELS`), and
schedules for activation hyper-parameters (the noisy units' noise scale c)."""

from actlab.nn import mnist1d
from actlab.nn.anneal import Schedule, anneal
from actlab.nn.bidirectional import Bidirectional
from actlab.nn.mnist1d import MNIST1D_PAPER, PaperProtocol
from actlab.nn.recurrent import GRU, LSTM

__all__ = ["GRU", "LSTM", "MNIST1D_PAPER", "Bidirectional", "PaperProtocol", "Schedule", "anneal", "mnist1d"]
