"""The forecasting package's exceptions: one base class, so callers can catch them all."""

from __future__ import annotations

__all__ = ["DataError", "ForecastError", "ModelError"]


class ForecastError(Exception):
    """Base class of every error raised by `forecasting`."""


class DataError(ForecastError, ValueError):
    """Input arrivals are unusable: missing columns, bad times, too little history."""


class ModelError(ForecastError):
    """A model could not be fitted or asked to predict before fitting."""
