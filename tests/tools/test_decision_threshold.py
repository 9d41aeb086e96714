"""A short demo training run stores the threshold calibrated on its validation set in its
checkpoints' meta; tools/test.py decides at it and reports ACC at 0.5 and at it."""
import glob
import json
import sys

import numpy as np
import pytest
import torch

from dadf_mm.evaluation.functional import calibrated_threshold
from tests.helpers.tool_runs import DEMO, FAST_DATA, run_process, tool_exit, train_short_run

# the test set made the validation set of SHORT_RUN (split, seed and size)
VAL_AS_TEST = ['test_dataloader.dataset.split=val', 'test_dataloader.dataset.seed=1',
               'test_dataloader.dataset.num_samples=4', 'test_dataloader.batch_size=2']


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('calibrated_run') / 'work'
    proc = train_short_run(DEMO, work_dir)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return work_dir


def meta(path) -> dict:
    return torch.load(str(path), map_location='cpu', weights_only=True)['meta']


def test_a_training_run_stores_the_threshold_test_py_uses_it(tmp_path, demo_run):
    out = tmp_path / 'out'
    cmd = [sys.executable, 'tools/test.py', DEMO, None, '--out', None, '--work-dir',
           str(tmp_path / 'work'), '--cfg-options', *FAST_DATA, *VAL_AS_TEST]
    # every checkpoint carries the threshold of the validation before it (iterations 2, 4)
    last = meta(demo_run / 'iter_5.pth')['decision_threshold']
    assert last['rule'] == 'eer' and last['iteration'] == 4
    [best] = glob.glob(str(demo_run / 'best_PBCA_iter_*.pth'))
    stored = meta(best)['decision_threshold']
    assert stored['iteration'] == int(best.split('_')[-1][:-4])

    # the best checkpoint's weights are those of the validation that chose its threshold:
    # tested on that validation set, its scores give the same threshold by the EER rule
    cmd[3], cmd[5] = best, str(out)
    proc = run_process(cmd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (f'decision threshold {stored["threshold"]:.4f} (calibrated at the EER point on '
            f'the validation set of iteration {stored["iteration"]}') in proc.stdout
    records = [json.loads(line) for line in open(out / 'predictions.jsonl')]
    scores = np.array([r['fake_probability'] for r in records])
    labels = np.array([r['gt_label'] for r in records])
    assert calibrated_threshold(scores, labels, rule='eer') == pytest.approx(
        stored['threshold'], abs=1e-5)
    metrics = json.load(open(out / 'metrics.json'))
    assert metrics['calibrated_threshold'] == pytest.approx(stored['threshold'])
    assert metrics['ACC'] == pytest.approx(100 * np.mean((scores > 0.5) == labels))
    assert metrics['ACC@calibrated'] == pytest.approx(
        100 * np.mean((scores > stored['threshold']) == labels))
    assert 'ACC@calibrated' not in json.dumps(stored)  # the meta holds the threshold only

    # a stored threshold between 0.5 and a score flips that score's decision in test.py
    top = float(scores.max())
    injected = (top + 1) / 2 if top > 0.5 else top / 2
    checkpoint = torch.load(best, map_location='cpu', weights_only=True)
    checkpoint['meta']['decision_threshold']['threshold'] = injected
    torch.save(checkpoint, tmp_path / 'injected.pth')
    cmd[3], cmd[5] = str(tmp_path / 'injected.pth'), str(tmp_path / 'injected')
    proc = run_process(cmd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    flipped = [json.loads(line) for line in open(tmp_path / 'injected' / 'predictions.jsonl')]
    for record in flipped:
        assert record['is_fake'] == (record['fake_probability'] > injected)
    top_record = max(flipped, key=lambda r: r['fake_probability'])
    assert top_record['is_fake'] != (top_record['fake_probability'] > 0.5)
    if not top_record['is_fake']:  # the demo gates masks by the decision
        assert top_record['forged_area'] == 0
    assert 'ACC ' in proc.stdout and 'at the calibrated' in proc.stdout


@pytest.mark.parametrize('option, key', [
    ('val_evaluator.calibration=median', 'val_evaluator.calibration'),
    ('custom_hooks.4.rule=median', 'custom_hooks.4.rule')])
def test_an_unknown_rule_is_one_line_before_training(tmp_path, option, key):
    work_dir = tmp_path / 'work'
    message = tool_exit('train.py', DEMO, '--work-dir', work_dir, '--cfg-options', option)
    assert message == (f"train.py: {key}: 'median' is not a calibration rule; use 'eer' "
                       "(the EER point) or 'accuracy' (the best accuracy)")
    assert not work_dir.exists()
