"""One training run per work dir.

Two runs into one work dir overwrite each other's checkpoints and ``last_checkpoint``, and
a new run overwrites the checkpoints an earlier one left. :func:`lock_work_dir` holds an
exclusive ``flock`` on ``<work dir>/.train.lock`` for the rest of the process (the kernel
drops it when the process ends, however it ends, so a crashed run leaves no stale lock);
:func:`check_fresh_work_dir` refuses a new run where checkpoints already are.
"""
import datetime
import glob
import logging
import os
import os.path as osp
import socket
from typing import IO, Dict, List

from mmengine.logging import print_log

from .checkpoint_files import CheckpointFileError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

LOCK_NAME = '.train.lock'
_held: Dict[str, IO] = {}


class WorkDirError(CheckpointFileError):
    """A work dir that another run is using, or whose checkpoints a new run would
    overwrite."""


def process_rank() -> int:
    """This process's global rank as the launchers set it (0 when launched alone).

    Returns:
        int: ``RANK`` (torchrun), ``SLURM_PROCID``, ``OMPI_COMM_WORLD_RANK`` or
        ``PMI_RANK``; 0 when none is set.
    """
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK'):
        value = os.environ.get(name, '')
        if value.strip().isdigit():
            return int(value)
    return 0


def lock_work_dir(work_dir: str) -> bool:
    """Hold ``work_dir`` for this process (on rank 0; the other ranks write no files).

    Args:
        work_dir (str): The run's work dir (created if missing).

    Returns:
        bool: Whether a lock is held (False on other ranks and where the file system
        has no locks).

    Raises:
        WorkDirError: Another process holds it (the message names the work dir, the
            holder and the fix), or it cannot be created or written.
    """
    key = osp.abspath(work_dir)
    if fcntl is None or process_rank() != 0:
        return False
    if key in _held:
        return True
    try:
        os.makedirs(work_dir, exist_ok=True)
        handle = open(osp.join(work_dir, LOCK_NAME), 'a+')
    except OSError as err:  # a file of that name, no permission, a read-only disk
        raise WorkDirError(f'cannot write to work dir {work_dir!r} ({err.strerror}): pass '
                           '--work-dir with a folder you can write to') from err
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = ' '.join(handle.read().split()) or 'another process'
        handle.close()
        raise WorkDirError(
            f'work dir {work_dir!r} is in use by another training run ({holder}): both '
            'would overwrite each other\'s checkpoints and last_checkpoint; wait for it to '
            'end, or pass --work-dir with another folder') from None
    except OSError as err:  # a file system without locks (some network mounts)
        handle.close()
        print_log(f'cannot lock {work_dir} ({err.strerror}): make sure no other run '
                  'writes there', logger='current', level=logging.WARNING)
        return False
    handle.seek(0)
    handle.truncate()
    handle.write(f'pid {os.getpid()} on {socket.gethostname()} since '
                 f'{datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n')
    handle.flush()
    _held[key] = handle
    return True


def release_work_dir(work_dir: str) -> None:
    """Let go of ``work_dir`` (held by :func:`lock_work_dir`) and remove its lock file;
    the work dir too when nothing else is in it (a run refused before it wrote anything).

    Args:
        work_dir (str): The work dir.
    """
    handle = _held.pop(osp.abspath(work_dir), None)
    if handle is None:
        return
    try:
        os.remove(osp.join(work_dir, LOCK_NAME))
        os.rmdir(work_dir)
    except OSError:
        pass  # other files are there: the work dir stays
    handle.close()


def existing_checkpoints(work_dir: str) -> List[str]:
    """The checkpoint files (``*.pth``) and ``last_checkpoint`` in ``work_dir``.

    Args:
        work_dir (str): The folder.

    Returns:
        list[str]: Their names, sorted (temporary files of an interrupted save are not
        listed).
    """
    names = [osp.basename(p) for p in glob.glob(osp.join(glob.escape(work_dir), '*.pth'))]
    if osp.lexists(osp.join(work_dir, 'last_checkpoint')):
        names.append('last_checkpoint')
    return sorted(names)


def check_fresh_work_dir(work_dir: str) -> None:
    """Refuse to start a new run where an earlier run's checkpoints are.

    Args:
        work_dir (str): The new run's work dir.

    Raises:
        WorkDirError: It holds checkpoints; the message names them and the fixes.
    """
    found = existing_checkpoints(work_dir)
    if found:
        shown = ', '.join(found[:4]) + (f' and {len(found) - 4} more' if len(found) > 4 else '')
        raise WorkDirError(
            f'work dir {work_dir!r} holds the checkpoints of an earlier run ({shown}), which '
            'a new run would overwrite: pass --resume to continue that run, or --work-dir '
            'with another folder to start a new one')
