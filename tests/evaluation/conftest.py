"""Fixtures of the metric tests."""
import pytest

import dadf_mm.evaluation.forgery_metric as forgery_metric_module
import dadf_mm.evaluation.metric_values as metric_values_module
import dadf_mm.evaluation.pixel_histograms as pixel_histograms_module


@pytest.fixture
def logged(monkeypatch):
    """The lines ``ForgeryMetric`` logs during the test, in order."""
    lines = []
    for module in (forgery_metric_module, metric_values_module,
                   pixel_histograms_module):
        monkeypatch.setattr(module, 'print_log',
                            lambda msg, *args, **kwargs: lines.append(msg))
    return lines
