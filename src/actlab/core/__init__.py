"""Core: the activation base class, properties, registry, spec strings, errors."""
