"""Which checkpoint ``tools/train.py --resume`` continues from, and which one of a
finished run's work dir the other tools use (:func:`resolve_checkpoint`).

mmengine resumes from whatever ``last_checkpoint`` names and fails with a bare
``FileNotFoundError`` / ``EOFError`` when that file is gone or was cut off (runs written
before :class:`AtomicCheckpointHook`, a file removed by hand, a work dir moved). Here a
named file that is missing or unreadable falls back, with a warning, to the newest
complete ``iter_N.pth`` / ``epoch_N.pth`` in the work dir; a ``last_checkpoint`` that is a
folder, binary or empty is treated the same way; a work dir that holds only checkpoints
that cannot be resumed (``best_*.pth``) is refused rather than overwritten by a fresh
start.
"""
import glob
import logging
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from .checkpoint_files import CheckpointFileError, NonFiniteCheckpointError, read_checkpoint
from .work_dir_lock import existing_checkpoints

#: the longest ``last_checkpoint`` read (a path, not a file's content)
_MARKER_LIMIT = 4096


def _numbered_checkpoints(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` in ``work_dir``, newest (largest N) first."""
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = re.fullmatch(r'(iter|epoch)_(\d+)\.pth', osp.basename(path))
        if match:
            found.append((int(match.group(2)), path))
    return [path for _, path in sorted(found, reverse=True)]


def _readable(path: str) -> Optional[str]:
    """``None`` if ``path`` reads as a checkpoint, else why not (a checkpoint holding NaN
    or Inf is not skipped but refused: :class:`NonFiniteCheckpointError`)."""
    try:
        read_checkpoint(path)
        return None
    except NonFiniteCheckpointError as err:
        raise NonFiniteCheckpointError(f'--resume: {err}') from err
    except CheckpointFileError as err:
        return str(err)


def _read_marker(marker: str) -> Tuple[str, Optional[str]]:
    """The path ``last_checkpoint`` names ('' if none) and what is wrong with the marker
    itself (None if nothing)."""
    if not osp.lexists(marker):
        return '', None
    if osp.isdir(marker):
        return '', f'{marker} is a folder, not the text file naming the last checkpoint'
    try:
        with open(marker, 'rb') as f:
            data = f.read(_MARKER_LIMIT + 1)
        named = data.decode('utf-8').strip()
    except UnicodeDecodeError:
        return '', f'{marker} is not a text file naming a checkpoint (binary content)'
    except OSError as err:
        return '', f'{marker} cannot be read ({err.strerror})'
    if len(data) > _MARKER_LIMIT or '\n' in named or '\0' in named:
        return '', f'{marker} does not hold the path of one checkpoint'
    if not named:
        return '', f'{marker} is empty'
    return named, None


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from in ``work_dir``; ``None`` when there is none.

    Args:
        work_dir (str): the run's work dir (where ``last_checkpoint`` is).

    Returns:
        str | None: the file ``last_checkpoint`` names when it reads, else the newest
        complete numbered checkpoint (with a warning); ``None`` when the work dir holds
        no checkpoint at all (training starts afresh).

    Raises:
        CheckpointFileError: ``last_checkpoint`` is unusable (names a bad file, is a
            folder or binary) and no other checkpoint there reads; the work dir holds
            only checkpoints that cannot be resumed (``best_*.pth``: no optimizer
            state), which a fresh start would overwrite; or the checkpoint holds NaN or
            Inf values.
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    named, marker_problem = _read_marker(marker)
    problem = None
    if named:
        moved = osp.join(work_dir, osp.basename(named))
        if not osp.exists(named) and osp.isfile(moved):
            named = moved  # the work dir was moved or renamed since
        problem = _readable(named)
        if problem is None:
            return named
    if marker_problem:
        why = marker_problem
    elif named:
        why = f'last_checkpoint names {named!r}, which is unusable ({problem})'
    else:
        why = f'{marker} is missing'
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
    if named or marker_problem:
        raise CheckpointFileError(
            f'--resume: {why}, and no other complete checkpoint (iter_*.pth, epoch_*.pth) '
            f'is in {work_dir}: pass --resume PATH to a checkpoint, or train without '
            '--resume into another --work-dir to start afresh')
    others = [name for name in existing_checkpoints(work_dir) if name != 'last_checkpoint']
    if others:
        raise CheckpointFileError(
            f'--resume: {work_dir} holds no checkpoint to resume from (no last_checkpoint, '
            f'iter_*.pth or epoch_*.pth; only {", ".join(others[:4])}, which keeps no '
            'optimizer state), and a fresh start would overwrite it: start a new run from '
            'its weights with --work-dir OTHER --cfg-options load_from=PATH, or pass '
            '--resume PATH to a checkpoint of the run')
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
    try:
        found = find_resume_checkpoint(path)
    except NonFiniteCheckpointError as err:
        raise NonFiniteCheckpointError(str(err).replace('--resume: ', '', 1)) from err
    except CheckpointFileError as err:
        raise FileNotFoundError(f'no usable checkpoint in {path!r}: '
                                f'{str(err).replace("--resume: ", "", 1)}') from err
    if found is None:
        raise FileNotFoundError(f'no checkpoint in {path!r} (no best_*.pth, last_checkpoint, '
                                'iter_*.pth or epoch_*.pth): pass a .pth file')
    return found
