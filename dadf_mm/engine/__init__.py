"""Runner-side support: safe checkpoint loading under weights_only, crash-safe checkpoint
files, checks of checkpoint files and input sizes, resuming, CPU multi-process, RGA's
diagnostics over validation and test runs, a stop at the first non-finite loss."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_files import CheckpointFileError, describe_load_error, read_checkpoint
from .checkpoint_fit import check_checkpoint_fits
from .cpu_distributed import CPUDistributedDataParallel, prepare_cpu_distributed
from .input_size_check import InputSizeCheckHook, InputSizeError
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .resume import find_resume_checkpoint, resolve_checkpoint
from .rga_diagnostics_hook import RGADiagnosticsHook
from .safe_checkpoint_loading import MMENGINE_SAFE_GLOBALS, allow_mmengine_checkpoints

__all__ = [
    'AtomicCheckpointHook', 'CheckpointFileError', 'describe_load_error', 'read_checkpoint',
    'check_checkpoint_fits', 'InputSizeCheckHook', 'InputSizeError', 'NonFiniteLossError',
    'NonFiniteLossHook', 'find_resume_checkpoint',
    'resolve_checkpoint', 'MMENGINE_SAFE_GLOBALS', 'allow_mmengine_checkpoints',
    'CPUDistributedDataParallel', 'prepare_cpu_distributed', 'RGADiagnosticsHook'
]
