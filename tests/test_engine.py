"""The batched gradient engine: one trial per row, independent of its batch, reproducible, and the
same as training each network on its own with torch.optim."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import actlab
from actlab.engine import GRADIENT_OPTIMIZERS, one_one_one, run_gradient
from actlab.engine.gradient import initial_params, make_optimizer


def acts(spec: str = "tanh") -> actlab.AbstractActivation:
    return actlab.create(spec).requires_grad_(False)


def test_network_is_the_1_1_1_mlp() -> None:
    theta = torch.tensor([[2.0, -0.5, 1.5, 0.25]])
    want = torch.tanh(1.5 * torch.tanh(torch.tensor(2.0 * 0.3 - 0.5)) + 0.25)
    assert torch.allclose(one_one_one(theta, 0.3, torch.tanh, torch.tanh), want)


@pytest.mark.parametrize("optimizer", GRADIENT_OPTIMIZERS)
def test_a_trial_does_not_depend_on_its_batch(optimizer: str) -> None:
    a = acts("snake(a=0.5)")
    big = run_gradient(a, a, 0.5, 0.3, optimizer=optimizer, lr=0.01, steps=200, seeds=range(37))
    alone = run_gradient(a, a, 0.5, 0.3, optimizer=optimizer, lr=0.01, steps=200, seeds=[11])
    other = run_gradient(a, a, 0.5, 0.3, optimizer=optimizer, lr=0.01, steps=200, seeds=[90, 11, 5])
    for o in (alone, other):
        i = 0 if o is alone else 1
        assert torch.allclose(o.curve[i], big.curve[11], rtol=1e-6, atol=1e-9)
        assert o.steps_to_target[i] == big.steps_to_target[11]


def test_same_seed_same_result() -> None:
    a = acts()
    r1 = run_gradient(a, a, 0.5, 0.3, optimizer="adam", lr=0.01, steps=100, seeds=range(8))
    r2 = run_gradient(a, a, 0.5, 0.3, optimizer="adam", lr=0.01, steps=100, seeds=range(8))
    assert torch.equal(r1.curve, r2.curve) and torch.equal(r1.steps_to_target, r2.steps_to_target)


@pytest.mark.parametrize("optimizer", GRADIENT_OPTIMIZERS)
def test_matches_training_each_network_alone(optimizer: str) -> None:
    """The naive way (an nn.Module and an optimizer per trial) from the same initial weights."""
    seeds, steps, x, y, lr = [3, 4, 5], 150, 0.5, 0.3, 0.02
    batched = run_gradient(acts("gelu"), acts("gelu"), x, y, optimizer=optimizer, lr=lr, steps=steps, seeds=seeds)
    init = initial_params(seeds).float()
    for i in range(len(seeds)):
        l1, l2 = nn.Linear(1, 1), nn.Linear(1, 1)
        with torch.no_grad():
            for p, v in zip((l1.weight, l1.bias, l2.weight, l2.bias), init[i]):
                p.fill_(v)
        net = nn.Sequential(l1, acts("gelu"), l2, acts("gelu"))
        opt = make_optimizer(optimizer, list(net.parameters()), lr)
        for _ in range(steps):
            opt.zero_grad()
            loss = (net(torch.tensor([[x]])) - y).square().sum()
            loss.backward()
            opt.step()
        final = (net(torch.tensor([[x]])) - y).square().item()
        assert abs(final - batched.final_loss[i].item()) <= 1e-6 + 1e-4 * final


def test_metrics() -> None:
    a = acts()
    o = run_gradient(a, a, 0.5, 0.3, optimizer="adam", lr=0.05, steps=300, seeds=range(16), threshold=1e-6)
    reached = o.steps_to_target >= 0
    assert reached.any()
    assert (o.best_loss <= o.final_loss + 1e-12).all() and (o.best_loss[reached] < 1e-6).all()
    assert o.curve.shape == (16, len(o.curve_steps)) and o.curve_steps[0] == 0 and o.curve_steps[-1] == 300
    with pytest.raises(ValueError, match="unknown gradient optimizer 'adamw'"):
        run_gradient(a, a, 0.5, 0.3, optimizer="adamw", lr=0.01, steps=1, seeds=[0])


def test_reflect_folds_repeated_overshoots_into_the_box() -> None:
    from actlab.engine.bounds import apply_bounds, reflect

    x = torch.tensor([0.5, 1.25, -0.25, 3.5, -2.75, 10.0, 2.0, -1.0])
    # box [-1, 2], width 3: 1.25 stays; -0.25 stays; 3.5 → 0.5; -2.75 → 0.75; 10 → mirror chain → 2 - (12 mod 6 ...)
    got = reflect(x, -1.0, 2.0)
    want = torch.tensor([0.5, 1.25, -0.25, 0.5, 0.75, 0.0, 2.0, -1.0])
    assert torch.allclose(got, want)
    assert ((got >= -1) & (got <= 2)).all()
    assert torch.equal(apply_bounds(x, -1.0, 2.0, "clip"), x.clamp(-1, 2))
    with pytest.raises(ValueError, match="unknown bounds mode"):
        apply_bounds(x, -1.0, 2.0, "wrap")


@pytest.mark.parametrize("mode", ["clip", "reflect"])
def test_bounded_runs_stay_in_the_box(mode: str) -> None:
    a = acts()
    lo, hi = torch.full((4,), -0.5), torch.full((4,), 0.5)
    free = run_gradient(a, a, 0.5, 0.3, optimizer="sgd", lr=5.0, steps=50, seeds=range(8))
    assert (free.params.abs() > 0.5).any()  # a large step size leaves the box without bounds
    o = run_gradient(a, a, 0.5, 0.3, optimizer="sgd", lr=5.0, steps=50, seeds=range(8), bounds=(lo, hi),
                     bound_mode=mode)
    assert ((o.params >= -0.5) & (o.params <= 0.5)).all() and torch.isfinite(o.final_loss).all()
