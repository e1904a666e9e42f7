"""The study protocol: what a study package provides, and what everything else knows of it.

A study is one folder, `actlab/studies/<name>/`, whose `__init__.py` defines `STUDY = Study(...)`:

- `config`: a strict dataclass (unknown keys are errors; `actlab.studies.config.build`), with presets
  in the package's `presets/` folder: `<name>.toml` (full), `<name>-quick.toml`, and the presets that
  join the default `actlab run` (`default_presets`, in order).
- `plan(config) -> list[Batch]`: every trial, grouped into batches (picklable), before anything runs.
- `run_batch(batch, device) -> list[TrialRecord]`: one batch as one tensor program.
- `cost(batch) -> Cost`: estimated seconds on one thread of the reference 2-core CPU, the elements of
  its per-step tensors (what the thread choice reads) and its peak memory in bytes (a plan whose
  batch cannot fit is refused before anything runs).
- `results(stored) -> R`: the one arrangement of the study's stored trials that its section, its
  terminal summary and its claims read.
- `section(results) -> Section | None`, `summary(results) -> list[rich.Table]`, `claims` (the
  study's rows of the claims ledger, reading `results`).
- Staged studies only (successive halving: which trials run next depends on results): `next_stage(config,
  stored) -> list[Batch]`, the batches of every stage the stored trials decide — stage 0 (`plan(config)`) and
  each next stage once the one before it is complete in `stored`. The runner runs what it has not run yet,
  reads the store, and asks again, until nothing new is planned. It reads stored results only, so a resumed run
  replans the same stages from the same store. `stand_ins(config, stored)`: the stages `stored` (None: nothing
  stored) decides, and stand-in batches as large as the later stages will be (the last decided stage's first
  trials at the later stages' budgets), which `--dry-run`, the estimate and the memory check count, since which
  trials a later stage holds is known only once the stages before it ran. The runner (`runner.run_study`) runs
  stage after stage.

The registry (`actlab.studies.registry`) is the single list of studies; other packages add theirs
through the `actlab.studies` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actlab.results.store import Store, TrialRecord
from actlab.studies.plan import Batch

if TYPE_CHECKING:
    from actlab.report.kit import Section
    from actlab.studies.claims import Claim


@dataclass(frozen=True)
class Cost:
    """What one batch costs: `seconds` on one thread of the reference 2-core CPU, `elements` in each of
    its per-step tensors (trials × population × width × points: what the thread choice reads),
    `memory`, its estimated peak in bytes, and `serial`, the part of `seconds` that more threads do not
    shorten (Python-level work per step, fixed costs)."""

    seconds: float
    elements: int
    memory: int
    serial: float = 0.0


class Stored:
    """A study's trials as the report reads them: loaded once, with their loss curves on demand from the
    same open store (None: trials given in memory, no curves)."""

    def __init__(self, study: str, trials: list[dict[str, Any]], store: Store | None = None) -> None:
        self.study = study
        self.trials = trials
        self._store = store
        self._curves: dict[str, list[tuple[int, float]]] = {}

    def curves(self, ids: Iterable[str]) -> dict[str, list[tuple[int, float]]]:
        want = [i for i in ids if i not in self._curves]
        if want and self._store is not None:
            found = self._store.curves(want)
            for i in want:
                self._curves[i] = found.get(i, [])
        return {i: self._curves.get(i, []) for i in ids}

    @classmethod
    def load(cls, store: str | Path, study: str) -> Stored:
        """One study's trials from a store file, curves included (the store is read now, then closed)."""
        with Store(store, create=False) as s:
            trials = list(s.trials(study))
            out = cls(study, trials)
            out._curves = s.curves([t["trial_id"] for t in trials]) if trials else {}
        return out


def lazy(module: str, name: str) -> Callable[..., Any]:
    """`module.name`, imported at its first call: a study's `__init__` names its results, section, summary and
    claims this way, so that listing or planning studies does not import matplotlib or scipy."""
    import importlib

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args)

    call.__name__ = call.__qualname__ = name
    return call


def _no_claims() -> list[Claim]:
    return []


def _no_tables(results: Any) -> list[Any]:
    return []


@dataclass(frozen=True)
class Study:
    name: str
    question: str
    """The one question the study answers (the report opens with it)."""
    config: type
    presets: Path
    plan: Callable[[Any], list[Batch]]
    run_batch: Callable[[Batch, str], list[TrialRecord]]
    cost: Callable[[Batch], Cost]
    results: Callable[[Stored], Any]
    section: Callable[[Any], Section | None]
    summary: Callable[[Any], list[Any]] = _no_tables
    claims: Callable[[], list[Claim]] = _no_claims
    default_presets: Sequence[str] = field(default_factory=tuple)
    """Preset files (in `presets/`) that join the default `actlab run`, in order."""
    size_keys: Sequence[str] = field(default_factory=tuple)
    """Config keys that scale a batch's memory (the conformance suite tries an absurd value of each)."""
    in_catalog: bool = True
    """Its activations join the report's catalog and depth sections (a search's thousands of candidates do not:
    its own section shows its finalists)."""
    next_stage: Callable[[Any, Stored], list[Batch]] | None = None
    """A staged study's stages as far as its stored trials decide them (see the module's docstring)."""
    stand_ins: Callable[[Any, Stored | None], list[Batch]] | None = None
    """A staged study's whole plan as far as its stored trials (None: none) decide it, and stand-in batches the size
    of the later stages (what `--dry-run` counts and the memory check reads)."""

    @property
    def staged(self) -> bool:
        return self.next_stage is not None

    def preset(self, name: str) -> Path:
        return self.presets / name
