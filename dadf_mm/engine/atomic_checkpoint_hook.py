"""mmengine's CheckpointHook with crash-safe files (``type='AtomicCheckpointHook'``).

mmengine 0.10.7 deletes the oldest checkpoint before writing the new one, writes it in
place, and swaps the best checkpoint by deleting the old one first; ``last_checkpoint``
may name a file that a kill left half-written or never wrote, and with
``max_keep_ckpts=1`` nothing is left to resume from. Here every checkpoint (the best one
included) is written to a temporary file in the same folder, fsynced and renamed into
place; ``last_checkpoint`` is rewritten the same way, only after the file it names
exists; a checkpoint that falls out of ``max_keep_ckpts`` and a superseded best
checkpoint are removed only after their successor exists. A kill at any point leaves
``last_checkpoint`` naming a complete file (and at worst a stray ``.*.tmp-*`` file,
removed when training starts again, or an old checkpoint kept). A save that fails (a full
disk) removes its temporary file and stops the run with one line
(:class:`CheckpointWriteError`); a run that starts afresh where checkpoints already are
stops before it overwrites them (:class:`~.work_dir_lock.WorkDirError`).

Remote ``out_dir`` back ends (no rename) keep mmengine's behaviour.
"""
import os
import os.path as osp
from typing import Any, List

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from .atomic_files import (
    remove_stray_temporary_files,
    sync_folder,
    temporary_name,
    write_text_atomically,
)
from .checkpoint_files import CheckpointFileError
from .work_dir_lock import check_fresh_work_dir


class CheckpointWriteError(CheckpointFileError):
    """A checkpoint (or ``last_checkpoint``) that could not be written, e.g. a full disk."""


def write_failure(path: str, err: OSError) -> CheckpointWriteError:
    """The one-line error for a failed checkpoint write.

    Args:
        path (str): The file being written.
        err (OSError): What the write raised.

    Returns:
        CheckpointWriteError: Naming the file, the reason and the fix.
    """
    return CheckpointWriteError(
        f'writing {path} failed ({err.strerror or err}): its partial file is removed and the '
        'checkpoints saved before are kept; free space there (or pass another --work-dir) '
        'and continue with --resume')


class _AtomicSaves:
    """The runner as the parent hook sees it: ``save_checkpoint`` goes through
    :meth:`AtomicCheckpointHook._save_file`, everything else to the runner."""

    def __init__(self, hook: 'AtomicCheckpointHook', runner: Any) -> None:
        self._hook, self._runner = hook, runner

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        self._hook._save_file(self._runner, out_dir, filename, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)


class _DeferredRemoval:
    """A file back end whose ``remove`` / ``rmtree`` only note the path, so that the
    parent hook's "remove the old best, then write the new" becomes write, then remove."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.pending: List[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(str(path))

    def rmtree(self, path: str) -> None:
        self.pending.append(str(path))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` (same arguments) whose files survive a kill
    at any point; see the module docstring."""

    def _is_local(self) -> bool:
        backend = self.file_backend
        if isinstance(backend, _DeferredRemoval):
            backend = backend._backend
        return isinstance(backend, LocalBackend)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._is_local() and is_main_process():
            remove_stray_temporary_files(self.out_dir)
            if not (getattr(runner, '_resume', False) and getattr(runner, '_has_loaded', False)):
                check_fresh_work_dir(self.out_dir)  # a new run: overwrite nothing

    def _save_file(self, runner: Any, out_dir: str, filename: str, *args, **kwargs) -> None:
        """``runner.save_checkpoint`` to a temporary name, then fsync and rename."""
        if isinstance(runner, _AtomicSaves):
            runner = runner._runner
        if not self._is_local():
            runner.save_checkpoint(out_dir, filename, *args, **kwargs)
            return
        final = osp.join(out_dir, filename)
        tmp = temporary_name(final)
        try:
            runner.save_checkpoint(out_dir, osp.basename(tmp), *args, **kwargs)
            if not is_main_process():  # the runner writes on the main process only
                return
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException as err:
            if is_main_process() and osp.lexists(tmp):
                os.remove(tmp)  # a partial file would hold the space a full disk needs
            if isinstance(err, OSError):
                raise write_failure(final, err) from err
            raise
        sync_folder(out_dir)

    def _remove(self, path: str) -> None:
        if osp.isfile(path):
            os.remove(path)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        if not self._is_local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_file(runner, self.out_dir, filename, self.file_client_args,
                        save_optimizer=self.save_optimizer,
                        save_param_scheduler=self.save_param_scheduler, meta=meta,
                        by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        marker = osp.join(runner.work_dir, 'last_checkpoint')
        try:
            write_text_atomically(self.last_ckpt, marker)
        except OSError as err:
            raise write_failure(marker, err) from err
        if outdated is not None and outdated != step:
            self._remove(osp.join(self.out_dir, self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self._is_local():
            return super()._save_best_checkpoint(runner, metrics)
        backend, deferred = self.file_backend, _DeferredRemoval(self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(_AtomicSaves(self, runner), metrics)
        finally:
            self.file_backend = backend
        current = {getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()}
        if is_main_process():
            for path in deferred.pending:
                if path not in current:
                    self._remove(path)
