"""Analyses that need no device: memory of a training or inference step on meta."""
from .memory_estimate import (
    CUDA_BLOCK_ROUND,
    CUDA_CONTEXT_BYTES,
    CUDA_SEGMENT_ROUND,
    MemoryEstimate,
    estimate_config_memory,
    estimate_step_memory,
)
from .memory_fit import memory_fit_problem
from .memory_tracker import AllocatorModel, MemoryTracker
from .profiler_memory import profiled_cpu_peak
from .target_emulation import TargetEmulation

__all__ = [
    'CUDA_BLOCK_ROUND', 'CUDA_CONTEXT_BYTES', 'CUDA_SEGMENT_ROUND', 'AllocatorModel',
    'MemoryEstimate', 'MemoryTracker', 'TargetEmulation', 'estimate_config_memory',
    'estimate_step_memory', 'memory_fit_problem', 'profiled_cpu_peak'
]
