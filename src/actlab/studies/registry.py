"""The studies by name: each is a config class, a planner and a batch runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actlab.core.errors import UnknownNameError
from actlab.results.store import TrialRecord
from actlab.studies.plan import Batch

PRESETS = Path(__file__).parent / "presets"


@dataclass(frozen=True)
class Study:
    name: str
    config: type
    plan: Callable[[Any], list[Batch]]
    run_batch: Callable[[Batch, str], list[TrialRecord]]
    seconds: Callable[[Batch], float] | None = None
    """A batch's estimated run time on one thread of the reference 2-core CPU (what `--dry-run` prints)."""


def studies() -> dict[str, Study]:
    from actlab.studies import benchmark, noise, planar, single_sample

    return {single_sample.NAME: Study(single_sample.NAME, single_sample.SingleSampleConfig, single_sample.plan,
                                      single_sample.run_batch),
            planar.NAME: Study(planar.NAME, planar.PlanarConfig, planar.plan, planar.run_batch),
            benchmark.NAME: Study(benchmark.NAME, benchmark.BenchmarkConfig, benchmark.plan, benchmark.run_batch,
                                  benchmark.seconds),
            noise.NAME: Study(noise.NAME, noise.NoiseConfig, noise.plan, noise.run_batch, noise.seconds)}


def study(name: str) -> Study:
    known = studies()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown study {name!r}{hint} (known: {', '.join(known)})")
    return known[name]


def resolve(target: str | None, overrides: list[str], quick: bool = False) -> tuple[Study, Any]:
    """A study name or a PRESET.toml path (+ `--set` overrides) → (study, validated config).

    A study name loads its preset (`presets/NAME.toml`, or `NAME-quick.toml` with `quick`); a
    preset file names its study with a `study = "..."` key. A bare file name that is not in the
    current folder but is one of actlab's bundled presets (`planar-article.toml`) is that preset."""
    from actlab.studies.config import ConfigError, build, load_preset, parse_override

    if target is not None and target.endswith(".toml"):
        if Path(target).name == target and not Path(target).exists() and (PRESETS / target).is_file():
            target = str(PRESETS / target)
        values = load_preset(target)
        name = values.pop("study", None)
        if not isinstance(name, str):
            known = " or ".join(f'study = "{n}"' for n in studies())
            raise ConfigError(f"preset {target} must name its study ({known})")
    else:
        name = target or "single-sample"
        study(name)  # an unknown name fails here, before any file is read
        preset = PRESETS / f"{name}{'-quick' if quick else ''}.toml"
        values = load_preset(preset) if preset.exists() else {}
        values.pop("study", None)
    s = study(name)
    for text in overrides:
        key, value = parse_override(text)
        values[key] = value
    return s, build(s.config, values)


DEFAULT_RUN = (("single-sample", "default-single-sample.toml"), ("planar", "default-planar.toml"),
               ("planar", "default-planar-article-disc.toml"), ("planar", "default-planar-article-wave.toml"),
               ("benchmark", "default-benchmark.toml"), ("noise", "default-noise.toml"))
"""The stages of `actlab run` with no study: each study with its preset."""


def resolve_default(overrides: list[str]) -> list[tuple[Study, Any]]:
    """The default run's studies and configs; each `--set` applies to every stage that has the key
    (a key no stage has is an error)."""
    import dataclasses

    from actlab.studies.config import ConfigError, build, load_preset, parse_override

    parsed = [parse_override(text) for text in overrides]
    stages = []
    used: set[str] = set()
    for name, preset in DEFAULT_RUN:
        s = study(name)
        values = load_preset(PRESETS / preset)
        values.pop("study", None)
        keys = {f.name for f in dataclasses.fields(s.config)}
        for key, value in parsed:
            if key in keys:
                values[key] = value
                used.add(key)
        stages.append((s, values))
    unknown = [key for key, _ in parsed if key not in used]
    if unknown:
        raise ConfigError(f"unknown config key {unknown[0]!r} for the default run's studies "
                          f"({', '.join(dict.fromkeys(n for n, _ in DEFAULT_RUN))})")
    return [(s, build(s.config, values)) for s, values in stages]
