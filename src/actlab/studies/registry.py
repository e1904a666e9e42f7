"""The registry: the single list of studies that `actlab run`, `--dry-run`, the default run, the report,
the terminal summaries, the claims ledger and `actlab docs` iterate.

Built-in studies are the packages named in `BUILTIN`, in this order (the default run's and the report's);
other packages add theirs through the `actlab.studies` entry-point group (an entry point names a
`Study` object), after the built-in ones. `registered(study)` adds one for a block (tests)."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from actlab.core.errors import UnknownNameError
from actlab.studies.protocol import Study

BUILTIN = ("single_sample", "planar", "benchmark", "noise", "compare", "search")
"""Packages under actlab.studies, each defining `STUDY`."""
GROUP = "actlab.studies"
_EXTRA: list[Study] = []


def studies() -> dict[str, Study]:
    """Every registered study by name, in order: built-in, then entry points, then `registered` ones."""
    from importlib.metadata import entry_points

    found = [importlib.import_module(f"actlab.studies.{m}").STUDY for m in BUILTIN]
    found += [ep.load() for ep in entry_points(group=GROUP)]
    out: dict[str, Study] = {}
    for s in [*found, *_EXTRA]:
        if not isinstance(s, Study):
            raise TypeError(f"a registered study must be an actlab.studies.protocol.Study, got {type(s).__name__}")
        if s.name in out and out[s.name] is not s:
            raise ValueError(f"two studies are registered as {s.name!r}")
        out[s.name] = s
    return out


@contextlib.contextmanager
def registered(study: Study) -> Iterator[Study]:
    """Register `study` for the duration of a block (the conformance tests' tiny study)."""
    _EXTRA.append(study)
    try:
        yield study
    finally:
        del _EXTRA[next(i for i, s in enumerate(_EXTRA) if s is study)]


def study(name: str) -> Study:
    """The study registered as `name` (a built-in one is imported alone: `actlab run single-sample` does not
    import the other studies)."""
    module = name.replace("-", "_")
    if module in BUILTIN and not any(s.name == name for s in _EXTRA):
        found = importlib.import_module(f"actlab.studies.{module}").STUDY
        if isinstance(found, Study) and found.name == name:
            return found
    known = studies()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown study {name!r}{hint} (known: {', '.join(known)})")
    return known[name]


def bundled_preset(filename: str) -> Path | None:
    """A preset file of any registered study, by file name (`planar-article.toml`)."""
    for s in studies().values():
        if (s.presets / filename).is_file():
            return s.presets / filename
    return None


def resolve(target: str | None, overrides: list[str], quick: bool = False) -> tuple[Study, Any]:
    """A study name or a PRESET.toml path (+ `--set` overrides) → (study, validated config).

    A study name loads its preset (`presets/NAME.toml`, or `NAME-quick.toml` with `quick`); a
    preset file names its study with a `study = "..."` key. A bare file name that is not in the
    current folder but is one of the studies' bundled presets (`planar-article.toml`) is that preset."""
    from actlab.studies.config import ConfigError, build, load_preset, parse_override

    if target is not None and target.endswith(".toml"):
        if Path(target).name == target and not Path(target).exists():
            target = str(bundled_preset(target) or target)
        values = load_preset(target)
        name = values.pop("study", None)
        if not isinstance(name, str):
            known = " or ".join(f'study = "{n}"' for n in studies())
            raise ConfigError(f"preset {target} must name its study ({known})")
    else:
        name = target or "single-sample"
        s = study(name)  # an unknown name fails here, before any file is read
        preset = s.presets / f"{name}{'-quick' if quick else ''}.toml"
        values = load_preset(preset) if preset.exists() else {}
        values.pop("study", None)
    s = study(name)
    for text in overrides:
        key, value = parse_override(text)
        values[key] = value
    return s, build(s.config, values)


def default_run() -> list[tuple[Study, str]]:
    """The stages of `actlab run` with no study: each registered study with each of its default presets."""
    return [(s, p) for s in studies().values() for p in s.default_presets]


def resolve_default(overrides: list[str]) -> list[tuple[Study, Any]]:
    """The default run's studies and configs; each `--set` applies to every stage that has the key
    (a key no stage has is an error)."""
    from actlab.studies.config import ConfigError, build, load_preset, parse_override

    parsed = [parse_override(text) for text in overrides]
    stages = []
    used: set[str] = set()
    for s, preset in default_run():
        values = load_preset(s.preset(preset))
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
                          f"({', '.join(dict.fromkeys(s.name for s, _ in default_run()))})")
    return [(s, build(s.config, values)) for s, values in stages]
