"""Analyses of DADF's steps: memory of a training or inference step on meta (no device
needed), and what the benchmark tools build, run and time."""
from .benchmark_cases import (
    activate_zero_init,
    benchmark_model_config,
    build_benchmark_model,
    make_batch,
    reference_config,
)
from .memory_config import estimate_config_memory
from .memory_estimate import estimate_step_memory
from .memory_fit import memory_fit_problem
from .memory_report import (
    CUDA_BLOCK_ROUND,
    CUDA_CONTEXT_BYTES,
    CUDA_SEGMENT_ROUND,
    MemoryEstimate,
)
from .memory_tracker import AllocatorModel, MemoryTracker
from .profiler_memory import profiled_cpu_peak
from .step_timing import PeakMemory, count_flops_per_image, measure
from .target_emulation import TargetEmulation

__all__ = [
    'CUDA_BLOCK_ROUND', 'CUDA_CONTEXT_BYTES', 'CUDA_SEGMENT_ROUND', 'AllocatorModel',
    'MemoryEstimate', 'MemoryTracker', 'TargetEmulation', 'estimate_config_memory',
    'estimate_step_memory', 'memory_fit_problem', 'profiled_cpu_peak', 'activate_zero_init',
    'benchmark_model_config', 'build_benchmark_model', 'make_batch', 'reference_config',
    'PeakMemory', 'count_flops_per_image', 'measure'
]
