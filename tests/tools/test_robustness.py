"""tools/analysis_tools/robustness.py: the test split once per perturbation and severity,
the unperturbed row tools/test.py's numbers, a perturbed row those of tools/test.py with
the perturbation in its pipeline; a table, a plot per metric, resumed per run."""
import json
import subprocess
import sys

import cv2
import pytest

from dadf_mm.evaluation.cross_dataset_table import COLUMNS
from tests.helpers.tool_runs import DEMO, FAST_DATA, run_process, tool_exit

TOOL = 'analysis_tools/robustness.py'
# the demo's test split cut to 8 images: one batch, in tools/test.py as in the tool
EIGHT_IMAGES = ['test_dataloader.dataset.num_samples=8', 'test_dataloader.batch_size=8']
LEVELS = ['--levels', 'jpeg=70', 'blur=9', 'noise=18', 'downscale=3,6']
RUNS = ['none_0', 'jpeg_1', 'blur_1', 'noise_1', 'downscale_1', 'downscale_2']


def robustness(checkpoint, work_dir, *args) -> subprocess.CompletedProcess:
    return run_process([sys.executable, f'tools/{TOOL}', DEMO, str(checkpoint),
                        '--work-dir', str(work_dir), *args,
                        '--cfg-options', *FAST_DATA, *EIGHT_IMAGES])


def test_py_metrics(tmp_path, name: str, checkpoint, perturbation: str = '') -> dict:
    """tools/test.py's metrics.json on the 8-image demo split, with ``perturbation`` (a
    dict's text) right after LoadForgeryImage in the test pipeline."""
    config = tmp_path / f'test_{name}.py'
    pipeline = '' if not perturbation else (
        "test_pipeline = [dict(type='LoadForgeryImage'), " + perturbation +
        ", dict(type='Resize', scale=(128, 128), keep_ratio=False),\n"
        "    dict(type='LoadForgeryAnnotations'), dict(type='PackForgeryInputs')]\n"
        'test_dataloader = dict(dataset=dict(pipeline=test_pipeline))\n')
    config.write_text(f'_base_ = [{DEMO!r}]\n' + pipeline)
    out = tmp_path / f'test_py_{name}'
    proc = run_process([sys.executable, 'tools/test.py', str(config), str(checkpoint),
                        '--out', str(out), '--work-dir', str(out),
                        '--cfg-options', *FAST_DATA, *EIGHT_IMAGES])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / 'metrics.json').read_text())


test_py_metrics.__test__ = False  # a helper, not a test


def test_rows_equal_test_py_and_a_rerun_redoes_only_missing_runs(short_demo_run, tmp_path):
    checkpoint = short_demo_run.work_dir / 'iter_5.pth'
    work = tmp_path / 'robust'
    proc = robustness(checkpoint, work, *LEVELS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'run 1/6: unperturbed (-)' in log and 'run 6/6: downscale severity 2 (factor 6)' in log
    assert sorted(p.stem for p in work.glob('*_*.json')) == sorted(RUNS)

    rows = json.loads((work / 'robustness.json').read_text())
    assert [(r['perturbation'], r['severity'], r['level']) for r in rows] == [
        ('none', 0, '-'), ('jpeg', 1, 'quality 70'), ('blur', 1, 'kernel 9 (sigma 1.50)'),
        ('noise', 1, 'sigma 18'), ('downscale', 1, 'factor 3'), ('downscale', 2, 'factor 6')]
    assert all(row['images'] == 8 for row in rows)
    clean, noisy = test_py_metrics(tmp_path, 'clean', checkpoint), test_py_metrics(
        tmp_path, 'noise', checkpoint, "dict(type='ImagePerturbation', kind='noise', level=18)")
    for key in COLUMNS:
        assert rows[0][key] == clean.get(key), key  # severity 0: test.py's numbers
        assert rows[3][key] == noisy.get(key), key  # the perturbation, not another one
    assert rows[3]['AUC'] != rows[0]['AUC']  # the noise reached the model
    assert (work / 'robustness.md').read_text() in proc.stdout

    for key in ('AUC', 'EER', 'ACC', 'PBCA'):  # one valid PNG per metric
        path = work / f'robustness_{key}.png'
        assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
        assert cv2.imread(str(path)).shape[2] == 3

    kept = {run: (work / f'{run}.json').stat().st_mtime_ns for run in RUNS if run != 'noise_1'}
    (work / 'noise_1.json').unlink()
    rerun = robustness(checkpoint, work, *LEVELS)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    log = rerun.stdout + rerun.stderr
    assert 'run 1/1: noise severity 1 (sigma 18)' in log and 'run 1/6' not in log
    assert 'jpeg severity 1: done earlier with this checkpoint and config' in log
    assert {run: (work / f'{run}.json').stat().st_mtime_ns for run in kept} == kept
    assert json.loads((work / 'robustness.json').read_text()) == rows


@pytest.mark.parametrize('args, message', [
    (['--perturbations', 'gamma'], "--perturbations: unknown perturbation 'gamma'; known: "
     'jpeg, blur, noise, downscale'),
    (['--levels', 'jpeg'], "--levels 'jpeg': write KIND=L1,L2,... with KIND one of jpeg, "
     'blur, noise, downscale, e.g. jpeg=90,70'),
    (['--levels', 'jpeg=high'], "--levels 'jpeg=high': the levels must be numbers separated "
     'by commas, e.g. jpeg=90,70'),
    (['--levels', 'blur=8'], "--levels 'blur=8': blur level 8: the kernel must be an odd "
     'whole number'),
])
def test_a_wrong_perturbation_or_level_is_one_line(tmp_path, args, message):
    out = tool_exit(TOOL, DEMO, tmp_path / 'none.pth', *args, '--work-dir', tmp_path / 'w')
    assert out == f'robustness.py: {message}'
    assert not (tmp_path / 'w').exists()


def test_a_pipeline_that_loads_no_image_is_one_line(tmp_path):
    """The perturbation goes after the image loading: without one, one line before work."""
    config = tmp_path / 'no_loading.py'
    config.write_text(f'_base_ = [{DEMO!r}]\n'
                      "test_dataloader = dict(dataset=dict(pipeline=[\n"
                      "    dict(type='LoadForgeryAnnotations'),\n"
                      "    dict(type='PackForgeryInputs')]))\n")
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'x')
    out = tool_exit(TOOL, config, checkpoint, '--work-dir', tmp_path / 'w')
    assert out == (f'robustness.py: {config}: test_dataloader.dataset.pipeline loads no image '
                   '(no LoadForgeryImage / LoadImageFromFile); the perturbation goes right '
                   'after the image is loaded')
    assert not (tmp_path / 'w').exists()
