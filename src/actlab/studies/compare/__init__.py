"""`compare`: activations compared on the user's own model and data (docs/compare.md)."""

from actlab.studies.compare.api import compare
from actlab.studies.compare.data import CompareInputError

__all__ = ["CompareInputError", "compare"]
