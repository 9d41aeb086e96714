"""tools/train.py stops at the iteration whose loss is NaN, with one line naming the
iteration and the loss terms, exit status 1, before that iteration is saved: the
checkpoint written before is unchanged and last_checkpoint still names it."""
import json
import os
import os.path as osp
import sys

from mmengine.config import Config

from tests.helpers.nan_injection import RECORD, file_digests
from tests.helpers.tool_runs import DEMO, FAST_DATA, run_process

# 4 iterations, a checkpoint every 2, no validation before the end
RUN = ['train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'train_dataloader.batch_size=2',
       'default_hooks.checkpoint.interval=2', 'default_hooks.visualization.draw=False']


def nan_config(folder, iteration: int) -> str:
    """The demo config, its hooks kept, plus NaNNoiseFromIter(iteration)."""
    hooks = [*Config.fromfile(DEMO).custom_hooks,
             dict(type='NaNNoiseFromIter', iteration=iteration)]
    path = osp.join(str(folder), 'nan_demo.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{DEMO!r}]\n'
                "custom_imports = dict(imports=['dadf_mm', 'tests.helpers.nan_injection'],\n"
                '                      allow_failed_imports=False)\n'
                f'custom_hooks = {hooks!r}\n')
    return path


def test_train_py_stops_at_the_first_nan_loss_and_keeps_the_last_finite_checkpoint(tmp_path):
    work = tmp_path / 'work'
    proc = run_process([sys.executable, 'tools/train.py', nan_config(tmp_path, 3),
                        '--work-dir', str(work), '--cfg-options', *FAST_DATA, *RUN])
    assert proc.returncode == 1, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith('train.py: training stopped at iteration 3: non-finite loss: '), line
    for term in ('loss_seg=nan', 'loss_cls=nan', 'loss_rec=nan'):
        assert term in line, line
    kept = str(work / 'iter_2.pth')
    assert f'last_checkpoint still names {kept}' in line
    assert 'Traceback' not in proc.stderr
    before = json.load(open(work / RECORD))
    assert 'iter_2.pth' in before and 'last_checkpoint' in before
    after = file_digests(str(work))
    assert {k: after[k] for k in before} == before  # nothing written before was changed
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['iter_2.pth']
    assert open(work / 'last_checkpoint').read().strip() == kept
