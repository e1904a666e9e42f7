"""Typed study configs: TOML presets, --set overrides, strict keys and types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from actlab.studies import ConfigError, load_config, parse_override


@dataclass
class Demo:
    activations: list[str] = field(default_factory=lambda: ["tanh"])
    seeds: int | list[int] = 10
    lr: float | list[float] = 0.001
    bounds: Literal["none", "clip", "reflect"] = "none"
    input: float = 0.5
    quick: bool = False


def test_overrides_are_toml_literals() -> None:
    assert parse_override("seeds=1000") == ("seeds", 1000)
    assert parse_override("lr=[1e-3, 1e-2]") == ("lr", [1e-3, 1e-2])
    assert parse_override('activations=["tanh","snake(a=0.5)"]') == ("activations", ["tanh", "snake(a=0.5)"])
    assert parse_override("bounds=reflect") == ("bounds", "reflect")  # a bare word is a string
    assert parse_override("quick=true") == ("quick", True)


def test_preset_then_overrides(tmp_path: Path) -> None:
    preset = tmp_path / "p.toml"
    preset.write_text('activations = ["relu", "gelu"]\nseeds = [1, 2, 3]\ninput = 1\n')
    cfg = load_config(Demo, preset, ["bounds=clip", "lr=[0.1, 0.01]"])
    assert cfg == Demo(activations=["relu", "gelu"], seeds=[1, 2, 3], lr=[0.1, 0.01], bounds="clip", input=1.0)
    assert isinstance(cfg.input, float)
    assert load_config(Demo) == Demo()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["seed=3"], "unknown config key 'seed'; did you mean seeds"),
        (["seeds=many"], "seeds: expected"),
        (["seeds=1.5"], "seeds: expected"),
        (["input=true"], "input: expected float"),
        (["bounds=wrap"], "must be one of 'none', 'clip', 'reflect'"),
        (["activations=tanh"], "expected a list"),
        (["activations=[1, 2]"], "activations[0]: expected str"),
        (["lr=[1, 'x']"], "lr: expected"),
        (["novalue"], "key=value"),
        (["lr=[1,"], "cannot read"),
    ],
)
def test_bad_configs_name_the_key_and_what_is_allowed(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=__import__("re").escape(message)):
        load_config(Demo, None, overrides)


def test_bad_preset_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no preset file"):
        load_config(Demo, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seeds = [1, \n")
    with pytest.raises(ConfigError, match="cannot read preset"):
        load_config(Demo, bad)
