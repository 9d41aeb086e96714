"""Which checkpoint ``tools/train.py --resume`` continues from, and which one of a
finished run's work dir the other tools use (:func:`resolve_checkpoint`).

mmengine resumes from whatever ``last_checkpoint`` names and fails with a bare
``FileNotFoundError`` / ``EOFError`` when that file is gone or was cut off (runs written
before :class:`AtomicCheckpointHook`, a file removed by hand, a work dir moved). Here a
named file that is missing or unreadable falls back, with a warning, to the newest
complete ``iter_N.pth`` / ``epoch_N.pth`` in the work dir.
"""
import glob
import logging
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.logging import print_log

from .checkpoint_files import CheckpointFileError, read_checkpoint


def _numbered_checkpoints(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` in ``work_dir``, newest (largest N) first."""
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = re.fullmatch(r'(iter|epoch)_(\d+)\.pth', osp.basename(path))
        if match:
            found.append((int(match.group(2)), path))
    return [path for _, path in sorted(found, reverse=True)]


def _readable(path: str) -> Optional[str]:
    """``None`` if ``path`` reads as a checkpoint, else why not."""
    try:
        read_checkpoint(path)
        return None
    except CheckpointFileError as err:
        return str(err)


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from in ``work_dir``; ``None`` when there is none.

    Args:
        work_dir (str): the run's work dir (where ``last_checkpoint`` is).

    Returns:
        str | None: the file ``last_checkpoint`` names when it reads, else the newest
        complete numbered checkpoint (with a warning); ``None`` when the work dir holds
        no ``last_checkpoint`` and no numbered checkpoint (training starts afresh).

    Raises:
        CheckpointFileError: ``last_checkpoint`` names a bad file and no other
            checkpoint there reads.
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    named = open(marker).read().strip() if osp.isfile(marker) else ''
    problem = None
    if named:
        moved = osp.join(work_dir, osp.basename(named))
        if not osp.exists(named) and osp.isfile(moved):
            named = moved  # the work dir was moved or renamed since
        problem = _readable(named)
        if problem is None:
            return named
    why = (f'last_checkpoint names {named!r}, which is unusable ({problem})' if named else
           f'{marker} is missing or empty')
    for path in _numbered_checkpoints(work_dir):
        if osp.abspath(path) == osp.abspath(named or ''):
            continue
        skipped = _readable(path)
        if skipped is not None:
            print_log(f'--resume: skipping {skipped}', logger='current', level=logging.WARNING)
            continue
        print_log(f'--resume: {why}; resuming from {path}, the newest complete checkpoint '
                  f'in {work_dir}', logger='current', level=logging.WARNING)
        return path
    if named:
        raise CheckpointFileError(
            f'--resume: {why}, and no other complete checkpoint (iter_*.pth, epoch_*.pth) '
            f'is in {work_dir}: pass --resume PATH to a checkpoint, or train without '
            '--resume to start afresh')
    return None


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or the one to use in a work dir.

    Args:
        path (str): a ``.pth`` file, or a work dir of ``tools/train.py``.

    Returns:
        str: ``path`` itself for a file; for a work dir its newest ``best_*.pth``, else
        the checkpoint ``last_checkpoint`` names (else the newest ``iter_N.pth`` /
        ``epoch_N.pth``).

    Raises:
        FileNotFoundError: nothing there, or a work dir without a checkpoint; the message
            names the path and what to pass instead.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'checkpoint {path!r} not found: pass a .pth file or the '
                                'work dir of a training run (e.g. work_dirs/demo after '
                                'bash tools/run_demo.sh)')
    best = sorted(glob.glob(osp.join(glob.escape(path), 'best_*.pth')), key=os.path.getmtime)
    if best:
        return best[-1]
    found = find_resume_checkpoint(path)
    if found is None:
        raise FileNotFoundError(f'no checkpoint in {path!r} (no best_*.pth, last_checkpoint, '
                                'iter_*.pth or epoch_*.pth): pass a .pth file')
    return found
