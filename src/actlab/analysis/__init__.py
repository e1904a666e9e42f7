"""Analysis: measure the properties of any activation (catalog entry, module, callable, formula), and
predict how signals propagate through deep networks of it (mean-field theory)."""

from actlab.analysis.init import init_
from actlab.analysis.measure import Report, analyze
from actlab.analysis.propagation import Propagation, propagation

__all__ = ["Propagation", "Report", "analyze", "init_", "propagation"]
