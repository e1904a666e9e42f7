"""The smallest complete study: fit y = a·x by gradient descent through an activation (the slope study).

A third-party package registers it through the `actlab.studies` entry-point group:
`[project.entry-points."actlab.studies"] slope = "tiny_study:STUDY"`."""

from pathlib import Path

from actlab.studies.protocol import Study
from tiny_study import results, study

STUDY = Study(
    name=study.NAME, question="Which activation lets gradient descent fit a line fastest?",
    config=study.SlopeConfig, presets=Path(__file__).parent / "presets", plan=study.plan,
    run_batch=study.run_batch, cost=study.cost, results=results.results, section=results.section,
    summary=results.summary, default_presets=("slope-tiny.toml",), size_keys=("points",))
