"""mmseg's own tools/train.py trains the demo config as tools/train.py does: the same
losses at every iteration for the config's seed, on the full-length schedule shortened with
``--cfg-options train_cfg.max_iters=4`` (which stopped mmseg's train.py with "end should be
larger than begin" while the demo's warm-up was fixed at 50 iterations)."""
import glob
import json
import os.path as osp
import sys

import mmseg
import pytest

from tests.helpers.tool_runs import DEMO, FAST_DATA, run_process

MMSEG_TRAIN = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'train.py')
ITERS = 4
# few samples, one log line per iteration, one small validation at the end
OPTIONS = [*FAST_DATA, f'train_cfg.max_iters={ITERS}', 'train_cfg.val_interval=1000',
           'train_dataloader.batch_size=2', 'train_dataloader.dataset.num_samples=16',
           'val_dataloader.batch_size=2', 'val_dataloader.dataset.num_samples=4',
           'default_hooks.logger.interval=1', 'default_hooks.visualization.draw=False',
           'default_hooks.checkpoint.interval=1000']


def logged_losses(work_dir) -> list:
    """The ``loss*`` values and the lr of each training iteration in the run's
    scalars.json."""
    found = glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))
    assert len(found) == 1, found
    rows = [json.loads(line) for line in open(found[0])]
    rows = [r for r in rows if any(k.startswith('loss') for k in r)]
    return [(r['step'], {k: v for k, v in r.items() if k.startswith('loss') or k == 'lr'})
            for r in rows]


@pytest.mark.skipif(not osp.isfile(MMSEG_TRAIN), reason="mmseg's tools are not installed")
def test_mmseg_train_py_and_ours_log_the_same_losses(tmp_path):
    env = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    runs = {}
    for name, script in (('mmseg', MMSEG_TRAIN), ('ours', 'tools/train.py')):
        work = tmp_path / name
        proc = run_process([sys.executable, script, DEMO, '--work-dir', str(work),
                            '--cfg-options', *OPTIONS], env=env, timeout=300)
        assert proc.returncode == 0, (name, proc.stderr[-3000:])
        runs[name] = logged_losses(work)
    assert [step for step, _ in runs['ours']] == list(range(1, ITERS + 1))
    assert runs['mmseg'] == runs['ours']
    losses = runs['ours']
    assert 'loss' in losses[0][1] and len(losses[0][1]) >= 4  # the total, its terms, lr
    assert losses[0][1]['lr'] == 3e-4  # no warm-up in 4 iterations, then the cosine
    assert losses[-1][1]['lr'] < losses[1][1]['lr'] < 3e-4
    assert losses[0][1]['loss'] != losses[-1][1]['loss']  # it trained
