"""The activation search: Ramachandran, Zoph and Le's space (2017) enumerated, deduplicated, screened by what the
analyser measures, narrowed by successive halving on real data, and its winners tested against relu, silu and
gelu with statistics (docs/search.md). `actlab run search`; a staged study (`Study.next_stage`)."""

from pathlib import Path

from actlab.studies.protocol import Study, lazy
from actlab.studies.search import study as _s

_HERE = "actlab.studies.search"

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.SearchConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=lazy(f"{_HERE}.results", "results"),
    section=lazy(f"{_HERE}.section", "section"), summary=lazy(f"{_HERE}.section", "summary"),
    claims=lazy(f"{_HERE}.claims", "claims"), default_presets=("default-search.toml",),
    size_keys=("final_seeds", "rung_seeds"), in_catalog=False, next_stage=_s.next_stage, stand_ins=_s.stand_ins)

__all__ = ["STUDY"]
