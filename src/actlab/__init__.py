"""actlab: verified activation functions and a laboratory to study them.

    >>> import actlab, torch
    >>> act = actlab.create("snake(a=0.5)")
    >>> act.derivative(torch.zeros(3))
    tensor([1., 1., 1.])
"""

import actlab.catalog  # noqa: E402,F401  (registers the catalog)
from actlab._version import __version__
from actlab.core.activation import AbstractActivation, auto_fuse
from actlab.core.check import check_activation
from actlab.core.errors import ActlabInputError, ParameterError, ParameterTypeError, SpecError, UnknownNameError
from actlab.core.properties import Kink, Properties
from actlab.core.registry import create, get_class, names
from actlab.core.swap import swap

__all__ = [
    "AbstractActivation",
    "ActlabInputError",
    "Kink",
    "ParameterError",
    "ParameterTypeError",
    "Properties",
    "SpecError",
    "UnknownNameError",
    "__version__",
    "auto_fuse",
    "check_activation",
    "create",
    "get_class",
    "names",
    "swap",
]

from actlab.analysis import Propagation, Report, analyze, init_, propagation  # noqa: E402

__all__ += ["Propagation", "Report", "analyze", "init_", "propagation"]

from actlab.diagnostics import diagnose, monitor  # noqa: E402

__all__ += ["diagnose", "monitor"]

from actlab import nn  # noqa: E402,F401  (actlab.nn: GRU, LSTM, anneal; not in __all__, so `import *` keeps torch's nn)
from actlab.nn import anneal  # noqa: E402

__all__ += ["anneal"]


def __getattr__(name: str):  # noqa: ANN202
    """`actlab.compare` (actlab.studies.compare.compare), imported on first use: the study sits in a layer above
    the ones this package's modules import, so importing actlab must not import it."""
    if name == "compare":
        import importlib

        return importlib.import_module("actlab.studies.compare").compare
    raise AttributeError(f"module 'actlab' has no attribute {name!r}")
