"""The batched engine: many trials as one tensor program (trial, and population member, as the
leading dimensions)."""

from actlab.engine.gradient import GRADIENT_OPTIMIZERS, run_gradient
from actlab.engine.network import one_one_one
from actlab.engine.outcome import Outcome
from actlab.engine.population import POPULATION_OPTIMIZERS, Box, make_strategy, run_population

OPTIMIZERS = GRADIENT_OPTIMIZERS + POPULATION_OPTIMIZERS

__all__ = ["GRADIENT_OPTIMIZERS", "OPTIMIZERS", "POPULATION_OPTIMIZERS", "Box", "Outcome", "make_strategy",
           "one_one_one", "run_gradient", "run_population"]
