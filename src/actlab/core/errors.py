"""Errors raised for bad input: a user-facing message, never a traceback in the CLI."""

from __future__ import annotations


class ActlabInputError(Exception):
    """Base of every error caused by what a user asked for (not by a bug in actlab)."""


class SpecError(ActlabInputError, ValueError):
    """A spec string or formula that the whitelist parser rejects."""


class UnknownNameError(ActlabInputError, ValueError):
    """A name that is not in the registry."""


class ParameterError(ActlabInputError, ValueError):
    """A parameter value outside what the activation allows."""


class ParameterTypeError(ActlabInputError, TypeError):
    """A parameter of the wrong type, or an unknown keyword."""
