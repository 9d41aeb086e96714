"""Forgery localisation and detection metrics."""
from . import functional
from .forgery_metric import ForgeryMetric

__all__ = ['functional', 'ForgeryMetric']
