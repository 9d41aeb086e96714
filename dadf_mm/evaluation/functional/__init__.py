"""Pure numpy forgery metrics, shared by ``ForgeryMetric``, benchmarks and inference."""
from .calibration import CALIBRATION_RULES, calibrated_threshold
from .detection import (
    UndefinedMetricWarning,
    aggregate_videos,
    binary_accuracy,
    equal_error_rate,
    roc_auc,
    roc_curve,
)
from .localization import MaskCounts, iinc, mask_counts, pbca, pixel_f1, pixel_iou

__all__ = [
    'MaskCounts', 'mask_counts', 'pbca', 'iinc', 'pixel_f1', 'pixel_iou',
    'UndefinedMetricWarning', 'binary_accuracy', 'roc_curve', 'roc_auc',
    'equal_error_rate', 'aggregate_videos', 'CALIBRATION_RULES', 'calibrated_threshold'
]
