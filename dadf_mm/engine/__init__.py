"""Runner-side support: safe checkpoint loading under weights_only (every address),
crash-safe checkpoint files, checks of checkpoint files and input sizes, resuming, one run
per work dir, CPU multi-process, RGA's diagnostics over validation and test runs, a stop at
the first non-finite loss, the constant disc of the localisation baselines in every
checkpoint, the decision threshold calibrated on the validation set and what a model was
trained on in every checkpoint, a warm-up and cosine schedule measured in fractions of the
run."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_files import (
    CheckpointFileError,
    NonFiniteCheckpointError,
    describe_load_error,
    first_non_finite,
    read_checkpoint,
)
from .checkpoint_fit import check_checkpoint_fits, check_state_fits
from .checkpoint_fit_hook import CheckpointFitHook
from .checkpoint_schemes import install_safe_checkpoint_schemes
from .constant_disc_hook import ConstantDiscHook, disc_from_checkpoint, set_constant_disc
from .cpu_distributed import CPUDistributedDataParallel, prepare_cpu_distributed
from .decision_threshold import (
    DecisionThreshold,
    calibration_from_checkpoint,
    calibration_problems,
    decide_at_threshold,
    decision_threshold,
    set_calibrated_threshold,
)
from .decision_threshold_hook import DecisionThresholdHook
from .input_size_check import InputSizeCheckHook, InputSizeError
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .resume import find_resume_checkpoint, resolve_checkpoint
from .rga_diagnostics_hook import RGADiagnosticsHook
from .safe_checkpoint_loading import MMENGINE_SAFE_GLOBALS, allow_mmengine_checkpoints
from .training_data_hook import TRAINING_DATA_KEY, TrainingDataHook, training_data_record
from .training_start import prepare_training_start
from .warmup_cosine_lr import WarmupCosineLR
from .work_dir_lock import WorkDirError, check_fresh_work_dir, lock_work_dir

__all__ = [
    'AtomicCheckpointHook', 'CheckpointFileError', 'NonFiniteCheckpointError',
    'describe_load_error', 'first_non_finite', 'read_checkpoint', 'check_checkpoint_fits',
    'check_state_fits', 'CheckpointFitHook', 'install_safe_checkpoint_schemes',
    'ConstantDiscHook', 'disc_from_checkpoint', 'set_constant_disc',
    'prepare_training_start', 'WorkDirError', 'check_fresh_work_dir', 'lock_work_dir',
    'InputSizeCheckHook', 'InputSizeError', 'NonFiniteLossError', 'NonFiniteLossHook',
    'find_resume_checkpoint', 'resolve_checkpoint',
    'MMENGINE_SAFE_GLOBALS', 'allow_mmengine_checkpoints', 'CPUDistributedDataParallel',
    'prepare_cpu_distributed', 'RGADiagnosticsHook', 'WarmupCosineLR', 'DecisionThreshold',
    'DecisionThresholdHook', 'calibration_from_checkpoint', 'calibration_problems',
    'decide_at_threshold', 'decision_threshold', 'set_calibrated_threshold',
    'TRAINING_DATA_KEY', 'TrainingDataHook', 'training_data_record'
]
