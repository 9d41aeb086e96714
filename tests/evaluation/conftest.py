"""Fixtures of the metric tests."""
import pytest

import dadf_mm.evaluation.forgery_metric as forgery_metric_module


@pytest.fixture
def logged(monkeypatch):
    """The lines ``ForgeryMetric`` logs during the test, in order."""
    lines = []
    monkeypatch.setattr(forgery_metric_module, 'print_log',
                        lambda msg, *args, **kwargs: lines.append(msg))
    return lines
