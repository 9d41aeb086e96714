"""``kill -9`` of a training run at a chosen point, for the crash tests: after an
iteration, in the middle of writing a checkpoint, before a rename, before a removal.

Loaded into tools/train.py through ``custom_imports``; driven by the environment:

* ``DADF_KILL_LOG=PATH``: append each event's kind to PATH (a dry run counts them);
* ``DADF_KILL_AT=KIND:N``: SIGKILL the process at the N-th event of that kind, where KIND is
  ``iter`` (after a training iteration and its checkpoint), ``write`` (a checkpoint file
  being written: half of it reaches the disk), ``rename`` (before ``os.replace``) or
  ``remove`` (before a checkpoint's ``os.remove``).
"""
import os
import os.path as osp
import signal
from typing import Dict

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

_counts: Dict[str, int] = {}
_real = dict(put=LocalBackend.put, replace=os.replace, remove=os.remove)


def _event(kind: str) -> bool:
    """Log the event; whether this is the one to die at."""
    log = os.environ.get('DADF_KILL_LOG')
    if log:
        with open(log, 'a') as f:
            f.write(kind + '\n')
    _counts[kind] = _counts.get(kind, 0) + 1
    return os.environ.get('DADF_KILL_AT') == f'{kind}:{_counts[kind]}'


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _put(self, obj: bytes, filepath) -> None:
    if '.pth' in osp.basename(str(filepath)) and _event('write'):
        _real['put'](self, obj[:len(obj) // 2], filepath)
        _die()
    _real['put'](self, obj, filepath)


def _replace(src, dst, *args, **kwargs) -> None:
    if _event('rename'):
        _die()
    _real['replace'](src, dst, *args, **kwargs)


def _remove(path, *args, **kwargs) -> None:
    if str(path).endswith('.pth') and _event('remove'):
        _die()
    _real['remove'](path, *args, **kwargs)


LocalBackend.put, os.replace, os.remove = _put, _replace, _remove


@HOOKS.register_module()
class KillPoints(Hook):
    """Counts ``iter`` events (after the checkpoint hook has run for the iteration)."""

    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if _event('iter'):
            _die()
