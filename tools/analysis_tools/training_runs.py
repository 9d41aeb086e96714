"""Not a program: what the tools that train and test many configs share (rga_ablation.py,
run_table.py): the ``tools/train.py`` and ``tools/test.py`` command lines they run, each in
its own process with its output in a log, from the repository root."""
import os
import os.path as osp
import subprocess
import sys
from typing import List, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def shown(path: str) -> str:
    """``path`` relative to the repository root where it lies inside it."""
    rel = osp.relpath(osp.abspath(path), ROOT)
    return path if rel.startswith('..') else rel


def train_command(config: str, work_dir: str, options: Sequence[str] = ()) -> List[str]:
    """``tools/train.py CONFIG --work-dir WORK_DIR --resume``: a fresh start in an empty
    work dir, else the interrupted run resumed from its last checkpoint."""
    cmd = [sys.executable, 'tools/train.py', shown(config), '--work-dir', shown(work_dir),
           '--resume']
    return cmd + (['--cfg-options', *options] if options else [])


def test_command(config: str, checkpoint: str, out: str,
                 options: Sequence[str] = ()) -> List[str]:
    """``tools/test.py CONFIG CHECKPOINT --out OUT``: ``metrics.json`` in ``OUT`` (an earlier
    one replaced); ``CHECKPOINT`` may be a training work dir (its best checkpoint, else the
    last one)."""
    cmd = [sys.executable, 'tools/test.py', shown(config), shown(checkpoint), '--work-dir',
           shown(out), '--out', shown(out), '--overwrite-out']
    return cmd + (['--cfg-options', *options] if options else [])


def run_logged(cmd: List[str], log: str) -> None:
    """Run ``cmd`` from the repository root with its output in ``log``.

    Raises:
        RuntimeError: it failed; the message names the command, the log and its last line.
    """
    os.makedirs(osp.dirname(osp.abspath(log)), exist_ok=True)
    with open(log, 'w') as f:
        failed = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode
    if failed:
        with open(log, errors='replace') as f:
            lines = [line.strip() for line in f if line.strip()]
        last = f' ({lines[-1]})' if lines else ''
        raise RuntimeError(f'{" ".join(cmd)} failed{last}; see {log}')
