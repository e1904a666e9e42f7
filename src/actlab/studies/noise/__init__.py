"""The noise study: do noisy hard-saturating units (Gulcehre et al. 2016) train better than hard or soft
ones? Deep MLPs, a GRU on the adding problem, an LSTM counting distinct values, a 1-D picture."""

from pathlib import Path

from actlab.studies.noise import claims as _c
from actlab.studies.noise import results as _r
from actlab.studies.noise import section as _sec
from actlab.studies.noise import study as _s
from actlab.studies.noise import summary as _sum
from actlab.studies.protocol import Study

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.NoiseConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=_r.results, section=_sec.section,
    summary=_sum.summary, claims=_c.claims, default_presets=("default-noise.toml",),
    size_keys=("mlp_width", "mlp_layers", "mlp_batch", "rnn_hidden", "rnn_batch", "adding_length", "unique_length",
               "test_size", "one_d_starts"))
