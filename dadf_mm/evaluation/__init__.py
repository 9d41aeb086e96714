"""Forgery localisation and detection metrics, and the constant disc their baselines use."""
from . import functional
from .baseline_table import format_baseline_table
from .constant_disc import ConstantDisc, NoTrainingMasksError, fit_constant_disc
from .forgery_metric import ForgeryMetric
from .prediction_writer import ForgeryPredictionWriter

__all__ = ['functional', 'ConstantDisc', 'NoTrainingMasksError', 'fit_constant_disc',
           'ForgeryMetric', 'ForgeryPredictionWriter', 'format_baseline_table']
