"""Forgery localisation and detection metrics."""
from . import functional
from .forgery_metric import ForgeryMetric
from .prediction_writer import ForgeryPredictionWriter

__all__ = ['functional', 'ForgeryMetric', 'ForgeryPredictionWriter']
