"""The activation catalog: importing it registers every family (one module per family)."""

from actlab.catalog import (  # noqa: F401
    acon,
    exponential,
    expression,
    gating,
    mixed,
    noisy,
    normalizing,
    periodic,
    polynomial,
    rectifiers,
    shrink,
    sigmoids,
    soft_rectifiers,
)
