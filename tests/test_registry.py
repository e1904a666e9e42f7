"""Registry, spec strings, parameter validation and swap."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import actlab
from actlab.core.registry import Entry, add
from actlab.core.spec import format_spec, parse_spec


def test_create_snake_example_from_the_issue() -> None:
    act = actlab.create("snake(a=0.5)")
    assert isinstance(act, nn.Module) and isinstance(act.a, nn.Parameter) and act.a.item() == 0.5
    d = act.derivative(torch.linspace(-3, 3, 7))
    assert torch.allclose(d, 1 + torch.sin(torch.linspace(-3, 3, 7)))  # 1 + sin(2·0.5·x)
    assert act.properties.range == (-float("inf"), float("inf"))
    assert act.properties.saturation_left == "none"


def test_names_pattern() -> None:
    assert actlab.names("*relu*") == ["leaky_relu", "leaky_relu6", "prelu", "relu", "relu6", "rrelu", "squared_relu",
                                      "star_relu"]
    assert actlab.names("nothing*") == []


def test_aliases_and_variants() -> None:
    assert type(actlab.create("hardtanh")) is actlab.get_class("hard_tanh")
    g = actlab.create("gelu_tanh")
    assert g.get_params() == {"approximate": "tanh"} and g.spec == "gelu_tanh"
    assert actlab.create("silu").spec == "silu"
    assert actlab.create("swish(beta=1.0, learnable=False)").spec == "silu"
    assert actlab.get_class("relu") is actlab.get_class("leaky_relu")
    assert actlab.create("hard_sigmoid_keras").slope == 0.2


def test_docstrings_carry_the_generated_declarations() -> None:
    doc = actlab.get_class("snake").__doc__
    assert "x + sin²(a·x)/a" in doc and "Declared properties of snake" in doc and "monotonic: True" in doc


def test_importing_actlab_leaves_the_global_rng_alone() -> None:
    import subprocess
    import sys

    code = ("import torch; torch.manual_seed(0); a = torch.rand(1); torch.manual_seed(0); "
            "import actlab; print(bool(torch.rand(1) == a))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip() == "True"


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        add(Entry("relu", actlab.get_class("relu")))
    with pytest.raises(ValueError, match="already registered"):
        add(Entry("brand_new", actlab.get_class("relu"), aliases=("hardtanh",)))
    assert "brand_new" not in actlab.names()


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(actlab.UnknownNameError, match="did you mean.*gelu"):
        actlab.create("gleu")
    with pytest.raises(actlab.UnknownNameError, match="actlab list"):
        actlab.create("zzzzzz")


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("snake(a=0)", actlab.ParameterError, "a must be > 0"),
        ("snake(a=-1)", actlab.ParameterError, "a must be > 0"),
        ("snake(a='big')", actlab.ParameterTypeError, "a must be a number"),
        ("snake(b=1)", actlab.ParameterTypeError, "unknown parameter 'b'; allowed: a, num_parameters"),
        ("snake(a=True)", actlab.ParameterTypeError, "must be a number"),
        ("snake(a=inf)", actlab.ParameterError, "finite"),
        ("prelu(num_parameters=0)", actlab.ParameterError, "num_parameters must be >= 1"),
        ("gelu(approximate='fast')", actlab.ParameterError, "approximate must be one of 'none', 'tanh'"),
        ("gelu_tanh(approximate='none')", actlab.ParameterTypeError, "fixed"),
        ("noisy_hard_tanh(mode='sideways')", actlab.ParameterError, "mode must be one of"),
        ("hard_tanh(min_val=1, max_val=-1)", actlab.ParameterError, "max_val must be >"),
        ("mixed(acts='cos')", actlab.ParameterTypeError, "list of spec strings"),
        ("mixed(acts=['cos', 'softmax'])", actlab.ParameterError, "not elementwise"),
        ("mixed(acts=['cos', 'nope'])", actlab.UnknownNameError, "unknown activation 'nope'"),
        ("swish(learnable=1)", actlab.ParameterTypeError, "True or False"),
        ("squareplus(b=-1)", actlab.ParameterError, "squareplus: b must be >= 0, got -1"),
        ("squareplus(b=nan)", actlab.ParameterError, "squareplus: b must be finite"),
        ("squareplus(b=1e39)", actlab.ParameterError, "squareplus: b must be within"),
        ("squareplus(b='4')", actlab.ParameterTypeError, "squareplus: b must be a number"),
        ("sparse_plus(b=1)", actlab.ParameterTypeError, "sparse_plus: unknown parameter 'b'"),
        ("sparse_sigmoid(slope=0.25)", actlab.ParameterTypeError, "fixed"),
        ("sparsemax(dim='last')", actlab.ParameterTypeError, "sparsemax: dim must be an integer"),
    ],
)
def test_bad_parameters(spec: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        actlab.create(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "relu(negative_slope=__import__('os').system('touch /tmp/actlab_pwned'))",
        "__import__('os')",
        "relu.__class__",
        "relu(negative_slope=(lambda: 1)())",
        "relu(negative_slope=1+1)",
        "relu(0.1)",
        "relu(**{'a': 1})",
        "relu; import os",
        "relu(negative_slope=x)",
        "",
        "relu(" + "[" * 300 + "]" * 300 + ")",
    ],
)
def test_spec_parser_rejects_everything_but_literals(spec: str, tmp_path) -> None:
    with pytest.raises(actlab.SpecError):
        actlab.create(spec)
    import os

    assert not os.path.exists("/tmp/actlab_pwned")


def test_spec_error_points_at_the_offending_part() -> None:
    with pytest.raises(actlab.SpecError, match=r"rejected \"__import__\('os'\)\" \(column 21\)"):
        parse_spec("relu(negative_slope=__import__('os'))")


def test_spec_round_trip() -> None:
    name, kwargs = parse_spec("mixed(acts=['cos', 'snake(a=0.5)'], x=-inf, y=None, z=-2.5)")
    assert name == "mixed" and kwargs["acts"] == ["cos", "snake(a=0.5)"] and kwargs["z"] == -2.5
    assert parse_spec(format_spec(name, kwargs)) == (name, kwargs)


def test_get_params_round_trip_for_every_entry() -> None:
    for name in actlab.names():
        torch.manual_seed(0)
        act = actlab.create(name)
        assert type(act)(**act.get_params()).get_params() == act.get_params()


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), actlab.create("relu"))
        self.blocks = nn.ModuleList([nn.Sequential(nn.ReLU(), nn.Tanh()) for _ in range(2)])
        self.other = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        for b in self.blocks:
            x = b(x)
        return self.other(x)


def test_swap_replaces_every_relu_with_a_fresh_module() -> None:
    net = Net()
    assert actlab.swap(net, "relu", "mish") == 4
    mishes = [m for m in net.modules() if isinstance(m, actlab.get_class("mish"))]
    assert len(mishes) == 4 and len({id(m) for m in mishes}) == 4
    assert not any(isinstance(m, nn.ReLU) for m in net.modules())
    assert isinstance(net.other, nn.LeakyReLU)  # leaky_relu is not relu
    net(torch.randn(2, 3)).sum().backward()


def test_swap_learnable_modules_are_not_shared() -> None:
    net = Net()
    assert actlab.swap(net, nn.ReLU, "prelu") == 3
    assert len(list(net.parameters())) == 4 + 3


def test_swap_with_spec_arguments_and_predicates() -> None:
    net = Net()
    assert actlab.swap(net, "leaky_relu(negative_slope=0.3)", "tanh") == 0
    assert actlab.swap(net, "leaky_relu(negative_slope=0.2)", "snake(a=0.5)") == 1
    assert actlab.swap(net, lambda m: isinstance(m, nn.Tanh), lambda: nn.Identity()) == 2


def test_swap_bad_input_touches_nothing() -> None:
    net = Net()
    before = str(net)
    with pytest.raises(actlab.UnknownNameError):
        actlab.swap(net, "relu", "mishh")
    with pytest.raises(actlab.ParameterError):
        actlab.swap(net, "relu", "snake(a=-1)")
    assert str(net) == before
