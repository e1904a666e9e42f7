"""The noise study: do noisy hard-saturating units (Gulcehre et al. 2016) train better than hard or soft
ones? Deep MLPs, a GRU on the adding problem, an LSTM counting distinct values, a 1-D picture."""

from pathlib import Path

from actlab.studies.noise import study as _s
from actlab.studies.protocol import Study, lazy

_HERE = "actlab.studies.noise"

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.NoiseConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=lazy(f"{_HERE}.results", "results"),
    section=lazy(f"{_HERE}.section", "section"), summary=lazy(f"{_HERE}.summary", "summary"),
    claims=lazy(f"{_HERE}.claims", "claims"), default_presets=("default-noise.toml",),
    size_keys=("mlp_width", "mlp_layers", "mlp_batch", "rnn_hidden", "rnn_batch", "adding_length", "unique_length",
               "test_size", "one_d_starts"))
