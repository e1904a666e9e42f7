"""The single-sample study: does the activation or the optimizer decide convergence? A 1-1-1 network
fitted to one sample, gradient and population optimizers, many seeds, weights free or boxed."""

from pathlib import Path

from actlab.studies.protocol import Study
from actlab.studies.single_sample import claims as _c
from actlab.studies.single_sample import results as _r
from actlab.studies.single_sample import section as _sec
from actlab.studies.single_sample import study as _s


def _claims() -> list:
    return list(_c.CLAIMS)


STUDY = Study(
    name=_s.NAME, question=_sec.QUESTION, config=_s.SingleSampleConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=_r.results, section=_sec.section,
    summary=_r.summary, claims=_claims, default_presets=("default-single-sample.toml",),
    size_keys=("popsize", "batch_size"))
