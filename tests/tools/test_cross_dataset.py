"""tools/analysis_tools/cross_dataset.py: one checkpoint over several converted test sets,
a table whose numbers are tools/test.py's on each set, resumed per set after a crash."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from dadf_mm.evaluation.cross_dataset_table import COLUMNS, csv_table, markdown_table, table_row
from tests.helpers.inference_cases import face_like
from tests.helpers.tool_runs import DEMO, FAST_DATA, ROOT, run_process, tool_exit

TOOL = 'analysis_tools/cross_dataset.py'
# the demo's test loader over 8 images: one batch, in tools/test.py as in the tool
ONE_BATCH = ['test_dataloader.batch_size=8']


def write_test_set(root: Path, ann_file: str, method: str, *, masks: bool, seed: int,
                   frames: int = 2, hidden: int = 0) -> None:
    """A converted test set as the converters write it: 64-px crops of 4 videos (2 real, 2
    fake) of ``frames`` frames each, listed in ``annotations/<ann_file>`` (JSONL); each
    fake has a brightened box (but the first ``hidden`` fakes), with its mask when
    ``masks``."""
    records = []
    for v in range(4):
        label = int(v >= 2)
        video = f'{seed}{v:02d}'
        for frame in range(frames):
            img = face_like(64, 64, seed=seed * 100 + v * 10 + frame)
            record = dict(img_path=f'crops/{video}/{frame:04d}.png', mask_path=None,
                          label=label, method=method if label else 'original',
                          video_id=video, frame=frame)
            if label and v - 2 >= hidden:  # brighter: scores differ from the reals
                img[16:48, 16:48] = np.clip(img[16:48, 16:48].astype(int) + 60, 0, 255)
            if label and masks:
                mask = np.zeros((64, 64), np.uint8)
                mask[16:48, 16:48] = 255
                record['mask_path'] = f'masks/{video}/{frame:04d}.png'
                (root / 'masks' / video).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(root / record['mask_path']), mask)
            (root / 'crops' / video).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / record['img_path']), img)
            records.append(record)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    (root / 'annotations' / ann_file).write_text(
        ''.join(json.dumps(r) + '\n' for r in records))


@pytest.fixture()
def test_sets(tmp_path) -> dict:
    """Two converted test sets (one with masks) and a presets file naming them."""
    data = tmp_path / 'data'
    write_test_set(data / 'masked', 'masked_test.jsonl', 'Swap', masks=True, seed=1)
    write_test_set(data / 'dfd', 'dfd_c40_test.jsonl', 'DeepFakeDetection', masks=False,
                   seed=2, frames=3, hidden=1)
    presets = tmp_path / 'presets.py'
    presets.write_text(
        "cross_datasets = ['masked', 'dfd_test']\n"
        f"masked_test = dict(type='ForgeryFolderDataset', data_root={str(data / 'masked')!r},\n"
        "                   ann_file='annotations/masked_test.jsonl')\n"
        "dfd_test = dict(_delete_=True, type='DFDDataset', data_root='data/dfd',\n"
        "                compression='c40', pipeline=[])\n"
        "unlisted_test = dict(type='DFDDataset', data_root='nowhere')\n")
    return dict(presets=str(presets), data=data,
                sets={'masked': dict(type='ForgeryFolderDataset', data_root=str(data / 'masked'),
                                     ann_file='annotations/masked_test.jsonl'),
                      'dfd': dict(type='DFDDataset', data_root=str(data / 'dfd'),
                                  compression='c40')})


def cross_dataset(checkpoint, work_dir, presets, *args) -> subprocess.CompletedProcess:
    return run_process([sys.executable, f'tools/{TOOL}', DEMO, str(checkpoint),
                        '--work-dir', str(work_dir), '--presets', presets, *args,
                        '--cfg-options', *FAST_DATA, *ONE_BATCH])


def test_py_metrics(tmp_path, name: str, dataset: dict, checkpoint) -> dict:
    """tools/test.py's metrics.json on the demo config with ``dataset`` as its test set
    (through the demo's own test pipeline)."""
    config = tmp_path / f'test_{name}.py'
    config.write_text(f"_base_ = [{DEMO!r}]\n"
                      f"test_dataloader = dict(dataset=dict(_delete_=True, **{dataset!r},\n"
                      "    pipeline={{_base_.test_pipeline}}))\n")
    out = tmp_path / f'test_py_{name}'
    proc = run_process([sys.executable, 'tools/test.py', str(config), str(checkpoint),
                        '--out', str(out), '--work-dir', str(out),
                        '--cfg-options', *FAST_DATA, *ONE_BATCH])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / 'metrics.json').read_text())


test_py_metrics.__test__ = False  # a helper, not a test


def test_table_equals_test_py_and_a_crash_loses_only_its_set(short_demo_run, test_sets,
                                                             tmp_path):
    checkpoint = short_demo_run.work_dir / 'iter_5.pth'
    work = tmp_path / 'cross'
    # two --data-root options: both count (was: the last replaced the first)
    roots = ['--data-root', f"dfd={test_sets['data'] / 'dfd'}",
             '--data-root', f"masked={test_sets['data'] / 'masked'}"]
    # the second set fails midway (an image that does not decode)
    broken = test_sets['data'] / 'dfd' / 'crops' / '203' / '0001.png'
    good = broken.read_bytes()
    broken.write_bytes(good[:40])
    crashed = cross_dataset(checkpoint, work, test_sets['presets'], *roots)
    assert crashed.returncode == 1, crashed.stderr[-3000:]
    assert str(broken) in crashed.stderr.strip().splitlines()[-1]
    assert (work / 'masked.json').is_file() and not (work / 'dfd.json').exists()
    assert not (work / 'cross_dataset.json').exists()
    first = (work / 'masked.json').stat().st_mtime_ns, (work / 'masked.json').read_text()

    broken.write_bytes(good)
    proc = cross_dataset(checkpoint, work, test_sets['presets'], *roots)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'masked: done earlier with this checkpoint and config' in log
    assert 'test set 1/1: dfd, 12 images' in log and 'test set 1/2' not in log
    assert ((work / 'masked.json').stat().st_mtime_ns,
            (work / 'masked.json').read_text()) == first

    rows = json.loads((work / 'cross_dataset.json').read_text())
    assert [row['dataset'] for row in rows] == ['masked', 'dfd']  # cross_datasets order
    for row in rows:
        expected = test_py_metrics(tmp_path, row['dataset'], test_sets['sets'][row['dataset']],
                                   checkpoint)
        for key in COLUMNS:
            assert row[key] == expected.get(key), (row['dataset'], key)
    masked, dfd = rows
    assert (masked['images'], dfd['images']) == (8, 12)
    assert masked['AUC'] != dfd['AUC']  # the sets' own numbers, not one set's twice
    assert masked['PBCA'] is not None and masked['IINC'] is not None
    assert dfd['PBCA'] is None and dfd['IINC'] is None  # no masks: blank, not measured
    assert masked['AUC'] is not None and masked != dfd
    assert (work / 'cross_dataset.csv').read_text() == csv_table(rows)
    assert (work / 'cross_dataset.md').read_text() == markdown_table(rows)
    assert markdown_table(rows) in proc.stdout


def test_a_rerun_redoes_a_set_whose_checkpoint_changed(short_demo_run, test_sets, tmp_path):
    """The first set only; then another checkpoint: it is tested again."""
    work = tmp_path / 'cross'
    best = next(short_demo_run.work_dir.glob('best_*.pth'))
    for checkpoint in (short_demo_run.work_dir / 'iter_5.pth', best):
        proc = cross_dataset(checkpoint, work, test_sets['presets'], '--datasets', 'masked')
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert 'test set 1/1: masked' in proc.stdout + proc.stderr
    record = json.loads((work / 'masked.json').read_text())
    assert record['checkpoint']['path'] == str(best)


def one_line(*args) -> str:
    message = tool_exit(TOOL, DEMO, *args)
    assert message.count('\n') == 0, message
    return message


def test_unknown_name_and_missing_checkpoint_are_one_line_each(tmp_path):
    message = one_line(tmp_path / 'none.pth', '--datasets', 'dfd', 'celebdf_v9')
    assert message == ("cross_dataset.py: --datasets: unknown test set 'celebdf_v9'; known: "
                       "dfd, dftimit_hq, dftimit_lq, celebdf_v1, celebdf_v2, dfdc, dfdcp, "
                       "deeperforensics, faceshifter, uadfv, wilddeepfake (the <name>_test "
                       "presets of "
                       f"{ROOT}/configs/_base_/datasets/cross_dataset_tests.py)")
    message = one_line(tmp_path / 'none.pth')
    assert message.startswith(f"cross_dataset.py: checkpoint '{tmp_path / 'none.pth'}' not "
                              'found')
    assert one_line(tmp_path / 'none.pth', '--data-root', 'dfd') == (
        "cross_dataset.py: --data-root 'dfd': write NAME=PATH, e.g. dfdc=/data/dfdc")


def test_nothing_prepared_is_one_line_with_what_makes_each(short_demo_run, tmp_path):
    checkpoint = short_demo_run.work_dir / 'iter_5.pth'
    empty = tmp_path / 'empty'
    message = one_line(checkpoint, '--work-dir', tmp_path / 'cross', '--data-root',
                       f'dfd={empty}', f'dftimit_hq={empty}', f'dftimit_lq={empty}')
    assert message.startswith('cross_dataset.py: nothing to test: no test set of ')
    assert 'run python tools/dataset_converters/dfd.py' in message
    assert 'run python tools/dataset_converters/dftimit.py' in message
    assert not (tmp_path / 'cross').exists()
    # named with --datasets, an unprepared set is a problem of its own
    message = one_line(checkpoint, '--work-dir', tmp_path / 'cross', '--datasets', 'dfd',
                       '--data-root', f'dfd={empty}')
    assert message.startswith('cross_dataset.py: dfd: not prepared: DFDDataset: annotation '
                              f'file {empty}/annotations/dfd_c40_test.jsonl does not exist')


def test_a_broken_list_or_a_missing_image_is_one_line_before_any_work(short_demo_run,
                                                                     test_sets, tmp_path):
    checkpoint = short_demo_run.work_dir / 'iter_5.pth'
    work = tmp_path / 'cross'
    listed = test_sets['data'] / 'masked' / 'annotations' / 'masked_test.jsonl'
    lines = listed.read_text().splitlines(keepends=True)
    listed.write_text(''.join(lines[:2] + ['{"img_path": \n'] + lines[3:]))
    message = one_line(checkpoint, '--work-dir', work, '--presets', test_sets['presets'],
                       '--datasets', 'masked')
    assert message.startswith(f'cross_dataset.py: masked: {listed}, line 3: not JSON')
    listed.write_text(''.join(lines))
    (test_sets['data'] / 'masked' / 'crops' / '103' / '0001.png').unlink()
    message = one_line(checkpoint, '--work-dir', work, '--presets', test_sets['presets'],
                       '--datasets', 'masked')
    assert message.startswith(f'cross_dataset.py: masked: 1 of 8 images listed in {listed} '
                              'do not exist')
    assert 'fix --data-root masked=FOLDER' in message
    assert not work.exists()


def test_the_table_formats_hand_computed_rows():
    metrics = {'AUC': 75.0, 'video_AUC': float('nan'), 'EER': 12.5, 'video_EER': 50.0,
               'AP': 80.5, 'ACC': 62.5, 'ACC@calibrated': 87.5, 'PBCA': 97.07641,
               'baseline/empty/PBCA': 1.0}
    row = table_row('celebdf_v2', 8, metrics)
    assert row == {'dataset': 'celebdf_v2', 'images': 8, 'AUC': 75.0, 'video_AUC': None,
                   'EER': 12.5, 'video_EER': 50.0, 'AP': 80.5, 'ACC': 62.5,
                   'ACC@calibrated': 87.5, 'PBCA': 97.07641, 'IINC': None}
    assert markdown_table([row]).splitlines()[2] == \
        '| celebdf_v2 | 8 | 75.00 |  | 12.50 | 50.00 | 80.50 | 62.50 | 87.50 | 97.08 |  |'
    assert csv_table([row]).splitlines() == [
        'dataset,images,AUC,video_AUC,EER,video_EER,AP,ACC,ACC@calibrated,PBCA,IINC',
        'celebdf_v2,8,75.0,,12.5,50.0,80.5,62.5,87.5,97.07641,']


def test_a_copy_of_tools_answers_help(tmp_path):
    copy = tmp_path / 'tools'
    shutil.copytree(Path(ROOT) / 'tools', copy, ignore=shutil.ignore_patterns('__pycache__'))
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, str(copy / TOOL), '--help'], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith('usage: cross_dataset.py')
