"""The planar study: what can each activation learn? 2 → width → 1 MLPs on planar datasets, decision
boundaries, feature spaces, accuracy against width; with the planar article's own setup as presets."""

from pathlib import Path

from actlab.studies.planar import claims as _c
from actlab.studies.planar import results as _r
from actlab.studies.planar import section as _sec
from actlab.studies.planar import study as _s
from actlab.studies.protocol import Study

STUDY = Study(
    name=_s.NAME, question=_sec.QUESTION, config=_s.PlanarConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=_r.results, section=_sec.section,
    summary=_sec.summary, claims=lambda: list(_c.CLAIMS),
    default_presets=("default-planar.toml", "default-planar-article-disc.toml", "default-planar-article-wave.toml"),
    size_keys=("widths", "layers", "n"))
