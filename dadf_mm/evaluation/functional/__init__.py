"""Pure numpy forgery metrics, shared by ``ForgeryMetric``, benchmarks and inference."""
from .calibration import CALIBRATION_RULES, calibrated_threshold
from .detection import (
    UndefinedMetricWarning,
    aggregate_videos,
    average_precision,
    binary_accuracy,
    equal_error_rate,
    roc_auc,
    roc_curve,
)
from .localization import MaskCounts, iinc, mask_counts, pbca, pixel_f1, pixel_iou
from .pixel_auc import (
    PIXEL_AUC_BINS,
    HistogramAUC,
    histogram_auc,
    pixel_histograms,
    probability_bins,
)

__all__ = [
    'MaskCounts', 'mask_counts', 'pbca', 'iinc', 'pixel_f1', 'pixel_iou',
    'UndefinedMetricWarning', 'binary_accuracy', 'roc_curve', 'roc_auc',
    'equal_error_rate', 'aggregate_videos', 'CALIBRATION_RULES', 'calibrated_threshold',
    'average_precision', 'PIXEL_AUC_BINS', 'HistogramAUC', 'histogram_auc', 'pixel_histograms',
    'probability_bins'
]
