"""Running tools/*.py as a user does, in a subprocess (exit status, real kills) or in this
process (fast, for inputs refused before any training)."""
import os
import os.path as osp
import runpy
import subprocess
import sys
from typing import Dict, List, Optional
from unittest import mock

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'dadf', 'dadf_sam-tiny_synthetic-demo.py')
FAST_DATA = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
             'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
             'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
# a 5-iteration demo run (shorter than the demo's 50-iteration warm-up) that checkpoints,
# validates and swaps its best checkpoint every 2 iterations, keeping one checkpoint
SHORT_RUN = ['train_cfg.max_iters=5', 'train_cfg.val_interval=2',
             'train_dataloader.batch_size=2', 'val_dataloader.dataset.num_samples=4',
             'default_hooks.checkpoint.interval=2', 'default_hooks.checkpoint.max_keep_ckpts=1',
             'default_hooks.checkpoint.save_best=PBCA', 'default_hooks.visualization.draw=False']
SMALL_TEST = ['test_dataloader.dataset.num_samples=4', 'test_dataloader.batch_size=2']


def run_process(args: List[str], env: Optional[Dict[str, str]] = None,
                timeout: int = 900) -> subprocess.CompletedProcess:
    """``args`` in the repository root, with the root on ``PYTHONPATH`` so that configs can
    load test-only modules (``tests.helpers.kill_points``); the finished process, whatever
    its status."""
    path = os.pathsep.join(p for p in (ROOT, os.environ.get('PYTHONPATH')) if p)
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}), PYTHONPATH=path)
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def kill_config(folder) -> str:
    """The demo config with tests/helpers/kill_points.py loaded (see there)."""
    path = osp.join(str(folder), 'kill_demo.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{DEMO!r}]\n"
                "custom_imports = dict(imports=['dadf_mm', 'tests.helpers.kill_points'],\n"
                "                      allow_failed_imports=False)\n"
                "custom_hooks = [dict(type='KillPoints')]\n")
    return path


def train_short_run(config: str, work_dir, env: Optional[Dict[str, str]] = None
                    ) -> subprocess.CompletedProcess:
    """tools/train.py --resume (a fresh start in an empty work dir) with :data:`SHORT_RUN`."""
    return run_process([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
                        '--resume', '--cfg-options', *FAST_DATA, *SHORT_RUN], env=env)


def tool_exit(tool: str, *args) -> str:
    """Run ``tools/<tool>`` in this process, as ``python tools/<tool>`` would (its folder
    first on the import path); the message it exits with ('' for success)."""
    argv = [tool, *map(str, args)]
    path = [osp.dirname(osp.join(ROOT, 'tools', tool)), *sys.path]
    with mock.patch.object(sys, 'argv', argv), mock.patch.object(sys, 'path', path), \
            pytest.raises(SystemExit) as stop:
        runpy.run_path(osp.join(ROOT, 'tools', tool), run_name='__main__')
        raise SystemExit('')
    return str(stop.value.code or '')


def state_dict(path) -> dict:
    return torch.load(str(path), map_location='cpu', weights_only=True)['state_dict']


def loads(path) -> bool:
    """Whether ``path`` is a complete checkpoint."""
    try:
        torch.load(str(path), map_location='cpu', weights_only=True)
        return True
    except Exception:  # noqa: B902
        return False
