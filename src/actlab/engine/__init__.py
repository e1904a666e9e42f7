"""The batched engine: many trials as one tensor program (trial as the leading dimension)."""

from actlab.engine.gradient import GRADIENT_OPTIMIZERS, run_gradient
from actlab.engine.network import one_one_one

__all__ = ["GRADIENT_OPTIMIZERS", "one_one_one", "run_gradient"]
