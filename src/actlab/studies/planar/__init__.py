"""The planar study: what can each activation learn? 2 → width → 1 MLPs on planar datasets, decision
boundaries, feature spaces, accuracy against width; with the planar article's own setup as presets."""

from pathlib import Path

from actlab.studies.planar import study as _s
from actlab.studies.protocol import Study, lazy

_HERE = "actlab.studies.planar"

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.PlanarConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=lazy(f"{_HERE}.results", "results"),
    section=lazy(f"{_HERE}.section", "section"), summary=lazy(f"{_HERE}.section", "summary"),
    claims=lazy(f"{_HERE}.claims", "claims"),
    default_presets=("default-planar.toml", "default-planar-article-disc.toml", "default-planar-article-wave.toml"),
    size_keys=("widths", "layers", "n"))
