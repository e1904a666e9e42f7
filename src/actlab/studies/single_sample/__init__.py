"""The single-sample study: does the activation or the optimizer decide convergence? A 1-1-1 network
fitted to one sample, gradient and population optimizers, many seeds, weights free or boxed."""

from pathlib import Path

from actlab.studies.protocol import Study, lazy
from actlab.studies.single_sample import study as _s

_HERE = "actlab.studies.single_sample"

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.SingleSampleConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=lazy(f"{_HERE}.results", "results"),
    section=lazy(f"{_HERE}.section", "section"), summary=lazy(f"{_HERE}.results", "summary"),
    claims=lazy(f"{_HERE}.claims", "claims"), default_presets=("default-single-sample.toml",),
    size_keys=("popsize",))
