"""Analysis: measure the properties of any activation (catalog entry, module, callable, formula)."""

from actlab.analysis.measure import Report, analyze

__all__ = ["Report", "analyze"]
