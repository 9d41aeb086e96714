"""Refuse, in one line, a checkpoint that training loads (``load_from``, ``--resume``) but
that does not hold this model's weights, or, to resume, no training state.

mmengine loads non-strictly: a ``load_from`` of another model trains from the random
initialisation with a "missing keys" log line, and resuming one fails with a raw
traceback from the optimizer (another adapter width) or a ``KeyError`` (a file without
``meta`` or ``message_hub``); a ``best_*.pth`` (no optimizer state) resumes with a fresh
optimizer. The same check as ``tools/test.py`` and ``tools/infer.py`` runs on what was
loaded, before any of it reaches the model.
"""
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from .checkpoint_files import CheckpointFileError
from .checkpoint_fit import check_state_fits, checkpoint_state_dict

#: what mmengine's ``Runner.resume`` reads besides the weights
TRAINING_STATE = ('meta', 'message_hub', 'optimizer')


def missing_training_state(checkpoint: dict) -> Optional[str]:
    """What a checkpoint lacks to be resumed, or None.

    Args:
        checkpoint (dict): What the file holds.

    Returns:
        str | None: E.g. ``'optimizer'`` or ``'meta, message_hub, optimizer'``.
    """
    if not isinstance(checkpoint, dict):
        return ', '.join(TRAINING_STATE)
    missing = [k for k in TRAINING_STATE if not isinstance(checkpoint.get(k), dict)]
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and not {'iter', 'epoch'} <= set(meta):
        missing.append('meta.iter / meta.epoch')
    return ', '.join(missing) or None


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """Check what ``load_from`` / ``resume`` loaded against the model, before it is used.

    Args:
        allow_partial (bool): for ``load_from``, only refuse a file that matches no key
            (``--allow-partial-checkpoint``); resuming always needs every key.
            Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self, *, allow_partial: bool = False) -> None:
        self.allow_partial = allow_partial

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        resuming = bool(getattr(runner, '_resume', False))
        name = getattr(runner, '_load_from', None) or osp.join(runner.work_dir,
                                                               'last_checkpoint')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        check_state_fits(
            model, checkpoint_state_dict(checkpoint), name,
            allow_partial=self.allow_partial and not resuming,
            fix=("; --resume continues a run of this config's model only" if resuming
                 else None))
        if resuming:
            lacking = missing_training_state(checkpoint)
            if lacking:
                raise CheckpointFileError(
                    f'--resume: checkpoint {name!r} cannot be resumed: it holds no '
                    f'{lacking} (a best_*.pth or a weights-only file); start a new run from '
                    'its weights with --cfg-options load_from=PATH and without --resume')
