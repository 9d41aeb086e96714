"""Helpers of the model code that are not layers: numeric precision, BatchNorm statistics,
re-enterable contexts, RGA's gradient diagnostics and signal fidelity, SAM checkpoint
reading, parameter counts, image labels of a batch."""
from .batch_norm import running_stats_frozen
from .contexts import Reentrant
from .precision import (
    at_least_float32,
    exact_float32,
    exact_float32_backward,
    float32_precisions,
    set_float32_precisions,
)
from .rga_diagnostics import adapter_gradient_share, rec_gradient_share

__all__ = [
    'Reentrant', 'running_stats_frozen', 'at_least_float32', 'exact_float32',
    'exact_float32_backward', 'float32_precisions', 'set_float32_precisions',
    'rec_gradient_share', 'adapter_gradient_share'
]
