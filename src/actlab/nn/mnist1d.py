"""The four classifiers of the MNIST-1D paper (Greydanus & Kobak, "Scaling down deep learning",
arXiv 2011.14439), with the activations made swappable, and the paper's training protocol as data.

Source: github.com/greydanus/mnist1d, notebooks/models.py at 7878d96 (identical to models.py of the
first commit 08ff47f, 2020): LinearBase, MLPBase, ConvBase, GRUBase. Same layers, sizes, forward
passes and reshapes, built in the same order with torch's default initialisation (the paper's code
sets none), so the same seed draws the same weights; attribute names are the paper's, so its
state_dicts load (the activation modules hold no parameters under ReLU).

  logistic  x (N, 40) -> linear(40, 10)                                                410 parameters
  mlp       h = act(linear1 x);  h = h + act(linear2 h);  linear3 h   (hidden 100)  15 210 parameters
  cnn       x -> (N, 1, 40) -> conv(1→25, k5, s2, p1) act -> conv(25→25, k3, s2, p1) act
            -> conv(25→25, k3, s2, p1) act -> flatten (25·5) -> linear(125, 10)          5 210 parameters
  gru       x -> (N, 40, 1) -> bidirectional GRU(1 → 6), h0 = 0 -> flatten (40·12)
            -> linear(480, 10)                                                           5 134 parameters

`activation` is where the paper has ReLU: a spec string ('tanh', 'leaky_relu(negative_slope=0.2)'),
a module (deep-copied per use) or a zero-argument factory (`nn.GELU`); each use gets its own module,
so `actlab.swap` and `isinstance` searches find each one. A spec whose class takes `num_parameters`
gets one per unit or channel (dim 1). The GRU has no ReLU: `gate` and `candidate` name its sigmoid
and tanh; given either, the layer is two `actlab.nn.GRU`s (see `Bidirectional`), else torch's nn.GRU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from torch import Tensor, nn

from actlab.core.errors import ParameterTypeError
from actlab.nn.bidirectional import Bidirectional
from actlab.nn.recurrent import GRU, ActivationLike, make_activation

INPUT_SIZE, NUM_CLASSES = 40, 10  # MNIST-1D: 40-long signals, 10 classes (train.py get_model_args, lines 21-22)

Activation = str | nn.Module | Callable[[], nn.Module]
"""A spec string, a module (deep-copied per use) or a zero-argument factory; None means torch's ReLU."""


def _maker(activation: Activation | None, units: int, owner: str) -> Callable[[str], nn.Module]:
    """role -> a fresh activation module for that role."""
    if activation is None:
        return lambda role: nn.ReLU()  # the paper's `.relu()`
    if isinstance(activation, (str, nn.Module)):
        return lambda role: make_activation(activation, units, owner, role)
    if not callable(activation):
        raise ParameterTypeError(f"{owner}: activation must be a spec string, a module or a factory, "
                                 f"got {type(activation).__name__}")

    def make(role: str) -> nn.Module:
        module = activation()
        if not isinstance(module, nn.Module):
            raise ParameterTypeError(f"{owner}: the activation factory must return an nn.Module, "
                                     f"got {type(module).__name__}")
        return module

    return make


class Logistic(nn.Module):
    """The paper's LinearBase (models.py lines 8-18): multinomial logistic regression, logits = W x + b."""

    def __init__(self, input_size: int = INPUT_SIZE, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.linear = nn.Linear(input_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)


class MLP(nn.Module):
    """The paper's MLPBase (models.py lines 20-34): two hidden layers, the second residual."""

    def __init__(self, activation: Activation | None = None, input_size: int = INPUT_SIZE,
                 num_classes: int = NUM_CLASSES, hidden_size: int = 100) -> None:
        super().__init__()
        make = _maker(activation, hidden_size, "MLP")
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, hidden_size)
        self.linear3 = nn.Linear(hidden_size, num_classes)
        self.act1, self.act2 = make("act1"), make("act2")

    def forward(self, x: Tensor) -> Tensor:
        h = self.act1(self.linear1(x))
        h = h + self.act2(self.linear2(h))  # the paper's residual connection
        return self.linear3(h)


def _conv_length(length: int, kernel: int, stride: int = 2, padding: int = 1) -> int:
    return (length + 2 * padding - kernel) // stride + 1


class CNN(nn.Module):
    """The paper's ConvBase (models.py lines 36-54): three strided 1-D convolutions and a linear read-out.

    Lengths for a 40-long input: 40 -(k5)-> 19 -(k3)-> 10 -(k3)-> 5, so the read-out sees 25·5 = 125
    features (the paper's linear_in=125)."""

    def __init__(self, activation: Activation | None = None, input_size: int = INPUT_SIZE,
                 num_classes: int = NUM_CLASSES, channels: int = 25) -> None:
        super().__init__()
        make = _maker(activation, channels, "CNN")
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        length = _conv_length(_conv_length(_conv_length(input_size, 5), 3), 3)
        self.linear = nn.Linear(channels * length, num_classes)
        self.act1, self.act2, self.act3 = make("act1"), make("act2"), make("act3")

    def forward(self, x: Tensor) -> Tensor:
        h = x.view(-1, 1, x.shape[-1])  # one input channel
        h = self.act1(self.conv1(h))
        h = self.act2(self.conv2(h))
        h = self.act3(self.conv3(h))
        return self.linear(h.view(h.shape[0], -1))  # flatten channels × positions


class GRUClassifier(nn.Module):
    """The paper's GRUBase (models.py lines 56-78): the signal read one value per time step by a
    bidirectional GRU (hidden 6 each way, zero initial state); every step's output flattened into a linear read-out."""

    def __init__(self, gate: ActivationLike | None = None, candidate: ActivationLike | None = None,
                 input_size: int = INPUT_SIZE, num_classes: int = NUM_CLASSES, hidden_size: int = 6) -> None:
        super().__init__()
        self.gru: nn.Module
        if gate is None and candidate is None:
            self.gru = nn.GRU(1, hidden_size, batch_first=True, bidirectional=True)
        else:
            g, c = "sigmoid" if gate is None else gate, "tanh" if candidate is None else candidate
            self.gru = Bidirectional(GRU(1, hidden_size, batch_first=True, gate=g, candidate=c),
                                     GRU(1, hidden_size, batch_first=True, gate=g, candidate=c))
        self.linear = nn.Linear(2 * hidden_size * input_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.gru(x.view(*x.shape[:2], 1))  # (N, 40) -> (N, 40 steps, 1 value); h0 = 0 as the paper's
        return self.linear(out.reshape(out.shape[0], -1))  # (N, 40·2·hidden)


def logistic() -> Logistic:
    """Logistic regression, the paper's LinearBase (no activation)."""
    return Logistic()


def mlp(activation: Activation | None = None) -> MLP:
    """The paper's MLP (hidden 100, residual second layer) with `activation` (default ReLU) in both places."""
    return MLP(activation)


def cnn(activation: Activation | None = None) -> CNN:
    """The paper's CNN (three convolutions of 25 channels) with `activation` (default ReLU) after each."""
    return CNN(activation)


def gru(gate: ActivationLike | None = None, candidate: ActivationLike | None = None) -> GRUClassifier:
    """The paper's bidirectional GRU classifier: torch's nn.GRU as the paper, or, given `gate` or `candidate`,
    actlab.nn.GRUs with those activations (the other keeps sigmoid / tanh)."""
    return GRUClassifier(gate, candidate)


MODELS: Mapping[str, Callable[[], nn.Module]] = MappingProxyType(
    {"logistic": logistic, "mlp": mlp, "cnn": cnn, "gru": gru})
"""The paper's four models by name, in its table's order, each built with the paper's activations."""


def _frozen(d: dict) -> Callable[[], Mapping]:
    return lambda: MappingProxyType(d)


@dataclass(frozen=True)
class PaperProtocol:
    """How the paper trains and evaluates (notebooks/train.py at 7878d96, the first commit's loop), and its figures.

    Loop (train.py lines 54-66): for step in 0..total_steps, inclusive (total_steps + 1 updates), the batch
    is rows [b, b + batch_size) of the unshuffled, unstandardised training set with b = step·batch_size mod 4000
    (40 batches an epoch, always in the same order); cross-entropy, Adam. Every eval_every steps, after the
    update, test accuracy on all 1000 test rows; the reported figure is the last one, at step total_steps
    (nothing in the code selects a best evaluation). `seed` is set (random, numpy, torch) before each model
    is built, so it fixes the initial weights only: the data and its order come from mnist1d's own seed.
    Checked on torch 2.13 (CPU, one thread): the paper's own models.py and train_model with the 2020 set_seed
    give the same initial weights and the same test accuracy at every evaluation as these models and
    benchmarks/mnist1d_paper.py, for all four models at seed 42.
    """

    learning_rate: float = 1e-2  # train.py line 24 ('learning_rate': 1e-2)
    weight_decay: float = 0.0  # train.py line 25 ('weight_decay': 0)
    batch_size: int = 100  # train.py line 26 ('batch_size': 100)
    # mnist1d-classification.ipynb (the benchmark figure) and the 2020 quickstart.ipynb both set
    # `args.total_steps = 6000`; get_model_args' own default is 8000 (train.py line 27).
    total_steps: int = 6000
    eval_every: int = 250  # train.py line 29 ('eval_every': 250)
    optimizer: str = "adam"  # train.py line 44: optim.Adam(params, lr, weight_decay=wd), torch's betas and eps
    # train.py line 32 ('seed': 42); the notebooks call set_seed(args.seed) before each model. The 2020
    # set_seed (utils.py lines 11-15 at 08ff47f) seeds random, numpy and torch; since 478893c (2024) and in
    # the pip package, mnist1d.utils.set_seed seeds random and numpy only, so torch's draws are unseeded.
    seed: int = 42
    # Test accuracy (%), mean and std: the paper's Table 1 (arXiv 2011.14439) as quoted in our brief. The
    # repository's README table gives the means only (32 / 68 / 94 / 91 %, README.md lines 75-78) and its
    # notebooks run one seed; how many seeds the ± is over is not stated in the code or README.
    accuracy: Mapping[str, tuple[float, float]] = field(default_factory=_frozen(
        {"logistic": (32.0, 1.0), "mlp": (68.0, 2.0), "cnn": (94.0, 2.0), "gru": (91.0, 2.0)}))
    # The authors' own seed-42 run, last evaluation at step 6000 (quickstart.ipynb of the first commit
    # 08ff47f, 2020, CPU): one draw from the distribution the table summarises.
    seed42: Mapping[str, float] = field(default_factory=_frozen(
        {"logistic": 31.7, "mlp": 64.6, "cnn": 92.5, "gru": 91.1}))


MNIST1D_PAPER = PaperProtocol()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars (the paper's count_params)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["CNN", "MLP", "MNIST1D_PAPER", "MODELS", "GRUClassifier", "Logistic", "PaperProtocol", "cnn",
           "count_parameters", "gru", "logistic", "mlp"]
