"""The real-data benchmark: which activation, and how sure? MLPs on MNIST-1D and scikit-learn datasets,
a learning-rate grid, paired seeds, selection on validation, the test split read once, statistics."""

from pathlib import Path

from actlab.studies.benchmark import study as _s
from actlab.studies.protocol import Study, lazy

_HERE = "actlab.studies.benchmark"

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.BenchmarkConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=lazy(f"{_HERE}.results", "results"),
    section=lazy(f"{_HERE}.section", "section"), summary=lazy(f"{_HERE}.section", "summary"),
    claims=lazy(f"{_HERE}.claims", "claims"), default_presets=("default-benchmark.toml",),
    size_keys=("widths", "depths", "minibatch"))
