"""What a training run starts from, decided before the runner is built.

:func:`prepare_training_start` holds the work dir (:func:`.work_dir_lock.lock_work_dir`),
removes the temporary files an interrupted save left (a disk that filled up during a
save stays full until they go), chooses the checkpoint ``--resume`` continues from
(:func:`.resume.find_resume_checkpoint`), refuses a new run where an earlier run's
checkpoints would be overwritten and adds :class:`.checkpoint_fit_hook.CheckpointFitHook`,
which checks what is loaded against the model, and
:class:`.training_data_hook.TrainingDataHook`, which records what the run trains on. A
``--resume PATH`` or ``load_from`` file is read (one line for a bad file, before any work)
by the tool's run checks (``tools/tool_setup.py``'s ``preflight``) before this, not again
here; only the ``load_from`` of a ``--resume`` that finds nothing to resume, which those
checks cannot foresee, is read here. Whatever is loaded is read weights-only again when
the runner loads it (:mod:`.checkpoint_schemes`).
"""
import os
import re
from typing import Optional

from mmengine.config import Config

from .atomic_files import remove_stray_temporary_files
from .checkpoint_files import read_checkpoint
from .resume import find_resume_checkpoint
from .work_dir_lock import check_fresh_work_dir, lock_work_dir, release_work_dir

#: ``scheme://``: an address mmengine's CheckpointLoader fetches (read when loaded)
_REMOTE = re.compile(r'^(\S+:)?[a-z][a-z0-9+.-]*://')


def prepare_training_start(cfg: Config, *, resume: Optional[str],
                           allow_partial: bool = False) -> None:
    """Set ``cfg.resume`` / ``cfg.load_from`` for ``tools/train.py`` and check them.

    Args:
        cfg (Config): The run's config (``work_dir`` set); changed in place.
        resume (str, optional): ``'auto'`` (``--resume``: the work dir's last complete
            checkpoint, or a fresh start where it holds none), a checkpoint path
            (``--resume PATH``) or None (a new run; ``resume=True`` in the config counts
            as ``'auto'``).
        allow_partial (bool): Let ``load_from`` miss some of the model's keys
            (``--allow-partial-checkpoint``). Defaults to False.

    Raises:
        CheckpointFileError: The work dir is in use or holds an earlier run's
            checkpoints (:class:`.work_dir_lock.WorkDirError`), or the checkpoint to
            start from is missing, unreadable, refused or not finite.
    """
    work_dir = cfg.work_dir
    if resume is None and cfg.get('resume', False) is True:
        resume = 'auto'
    created = not os.path.exists(work_dir)
    if lock_work_dir(work_dir):
        remove_stray_temporary_files(work_dir)
    try:
        _choose_start(cfg, resume)
    except BaseException:
        if created:  # a refused run leaves no work dir behind
            release_work_dir(work_dir)
        raise
    cfg.custom_hooks = [*(cfg.get('custom_hooks') or []),
                        dict(type='CheckpointFitHook', allow_partial=allow_partial),
                        dict(type='TrainingDataHook')]  # what it trains on, in each save


def _choose_start(cfg: Config, resume: Optional[str]) -> None:
    """``cfg.resume`` / ``cfg.load_from`` for ``resume`` (see above)."""
    if resume == 'auto':
        found = find_resume_checkpoint(cfg.work_dir)
        cfg.resume = found is not None
        if found is not None:
            cfg.load_from = found
            return
        load_from = cfg.get('load_from', None)  # a fresh start from the config's weights
        if load_from and not _REMOTE.match(str(load_from)):
            read_checkpoint(os.path.expanduser(str(load_from)))
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    else:
        cfg.resume = False
        check_fresh_work_dir(cfg.work_dir)
