"""Runner-side support: safe checkpoint loading under weights_only, CPU multi-process."""
from .cpu_distributed import CPUDistributedDataParallel, prepare_cpu_distributed
from .safe_checkpoint_loading import MMENGINE_SAFE_GLOBALS, allow_mmengine_checkpoints

__all__ = [
    'MMENGINE_SAFE_GLOBALS', 'allow_mmengine_checkpoints', 'CPUDistributedDataParallel',
    'prepare_cpu_distributed'
]
