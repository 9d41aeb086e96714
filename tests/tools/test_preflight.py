"""tools/train.py and tools/test.py check every data list, the SAM checkpoint, the
checkpoint files and the work dir before the runner starts, and report every problem
together, one line each, last on screen, with nothing written.

Before, each run stopped at the first of them, after mmengine had printed the config and
the hook tables (~150 lines) and made the work dir; the missing-SAM message did not name
tools/download_sam_checkpoints.py."""
import json
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from dadf_mm.datasets import ForgeryDataError
from tests.helpers.tool_runs import DEMO, FAST_DATA, run_process, tool_exit

from preflight_checks import (
    MAX_FILES_CHECKED,
    data_problems,
    folder_problems,
    sam_checkpoint_problems,
)

PIPELINE = ("[dict(type='LoadForgeryImage'), dict(type='Resize', scale=(128, 128), "
            "keep_ratio=False), dict(type='LoadForgeryAnnotations'), "
            "dict(type='PackForgeryInputs')]")


def write_list(path, records) -> None:
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


@pytest.fixture
def data(tmp_path):
    """data/ with two images and a mask; train.jsonl lists a third image that is not
    there, val.jsonl has a line that is not JSON, test.jsonl is fine."""
    root = tmp_path / 'data'
    (root / 'images').mkdir(parents=True)
    (root / 'masks').mkdir()
    for name in ('a', 'b'):
        cv2.imwrite(str(root / 'images' / f'{name}.png'), np.full((32, 32, 3), 90, np.uint8))
    cv2.imwrite(str(root / 'masks' / 'b.png'), np.full((32, 32), 255, np.uint8))
    good = [dict(img_path='images/a.png', label=0),
            dict(img_path='images/b.png', mask_path='masks/b.png', label=1)]
    write_list(root / 'train.jsonl', good + [dict(img_path='images/c.png', label=1)])
    (root / 'val.jsonl').write_text(json.dumps(good[0]) + '\n{"img_path": "images/b.png",\n')
    write_list(root / 'test.jsonl', good)
    return root


def folder_config(tmp_path, root) -> str:
    """The demo with ForgeryFolderDataset lists under ``root`` for all three dataloaders."""
    path = tmp_path / 'folder_demo.py'
    lines = [f'_base_ = [{DEMO!r}]']
    for split in ('train', 'val', 'test'):
        lines.append(f"{split}_dataloader = dict(dataset=dict(_delete_=True, "
                     f"type='ForgeryFolderDataset', data_root={str(root)!r}, "
                     f"ann_file='{split}.jsonl', pipeline={PIPELINE}))")
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def dataset_error(dataset_cfg) -> str:
    """The dataset's own message when the runner builds it (the reference)."""
    with pytest.raises(ForgeryDataError) as err:
        DATASETS.build(dataset_cfg)
    return ' '.join(str(err.value).split())


def test_train_py_reports_every_problem_together_before_the_runner(tmp_path, data):
    config = folder_config(tmp_path, data)
    work = tmp_path / 'work'
    sam = tmp_path / 'checkpoints' / 'sam_vit_b_01ec64.pth'
    missing = tmp_path / 'missing.pth'
    proc = run_process([sys.executable, 'tools/train.py', config, '--work-dir', str(work),
                        '--cfg-options', *FAST_DATA, f'model.sam_checkpoint={sam}',
                        f'load_from={missing}', 'train_cfg.max_iters=0'])
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()[-5:]  # the last lines on screen
    assert all(line.startswith('train.py: ') for line in lines), proc.stderr[-3000:]
    assert 'train_cfg.max_iters=0' in lines[0] and 'at least 1' in lines[0]
    assert lines[1] == (
        f'train.py: train_dataloader: 1 of 3 images listed in {data / "train.jsonl"} do not '
        f'exist, e.g. {data / "images" / "c.png"}; the paths are read relative to data_root '
        f"'{data}' (and data_prefix): fix --cfg-options train_dataloader.dataset.data_root="
        'FOLDER, or make them: write a JSONL/CSV list with img_path, mask_path, label, '
        'method, video_id (see dadf_mm/datasets/annotation_file.py)')
    val_error = dataset_error(Config.fromfile(config).val_dataloader.dataset)
    assert lines[2] == f'train.py: val_dataloader: {val_error}'
    assert 'val.jsonl, line 2: not JSON' in val_error  # the dataset's own words
    assert lines[3] == (
        f"train.py: SAM checkpoint: model.sam_checkpoint '{sam}' not found; fetch it with "
        'python tools/download_sam_checkpoints.py vit_b (into checkpoints/) or point '
        '--cfg-options model.sam_checkpoint=PATH at your copy')
    assert lines[4] == (f"train.py: load_from checkpoint '{missing}' not found; pass the "
                        'path of a .pth file')
    assert not work.exists()
    # mmengine printed nothing: no config, no environment, no hook table
    assert 'Config:' not in proc.stdout + proc.stderr
    assert 'System environment' not in proc.stdout + proc.stderr


def test_test_py_reports_its_list_and_its_checkpoint_together(tmp_path, data):
    write_list(data / 'test.jsonl', [])
    config = folder_config(tmp_path, data)
    work = tmp_path / 'work'
    message = tool_exit('test.py', config, tmp_path / 'gone.pth', '--work-dir', work,
                        '--out', tmp_path / 'out')
    test_error = dataset_error(Config.fromfile(config).test_dataloader.dataset)
    assert message.splitlines() == [
        f'test.py: test_dataloader: {test_error}',
        f"test.py: checkpoint file '{tmp_path / 'gone.pth'}' not found; pass the path of a "
        '.pth file']
    assert 'no samples in' in test_error
    assert not work.exists() and not (tmp_path / 'out').exists()


@pytest.mark.parametrize('case', ['missing', 'empty', 'label', 'csv header', 'not utf-8'])
def test_a_list_problem_is_the_dataset_s_own_message(tmp_path, data, case):
    ann = data / 'train.jsonl'
    if case == 'missing':
        ann.unlink()
    elif case == 'empty':
        ann.write_text('\n')
    elif case == 'label':
        write_list(ann, [dict(img_path='images/a.png', label=0.9)])
    elif case == 'csv header':
        ann = data / 'train.csv'
        ann.write_text('path,label\nimages/a.png,0\n')
    else:
        ann.write_bytes(b'{"img_path": "images/\xff.png", "label": 0}\n')
    cfg = Config.fromfile(folder_config(tmp_path, data))
    cfg.train_dataloader.dataset.ann_file = ann.name
    expected = dataset_error(cfg.train_dataloader.dataset)
    assert data_problems(cfg, ['train_dataloader']) == [f'train_dataloader: {expected}']


def test_missing_masks_are_counted_apart_and_large_lists_are_sampled(tmp_path, data,
                                                                     monkeypatch):
    records = [dict(img_path='images/a.png', mask_path=f'masks/{i}.png', label=1,
                    method=f'm{i}') for i in range(10)]
    write_list(data / 'train.jsonl', records)
    cfg = Config.fromfile(folder_config(tmp_path, data))
    monkeypatch.setattr('preflight_checks.MAX_FILES_CHECKED', 4)
    [line] = data_problems(cfg, ['train_dataloader'])
    assert line.startswith('train_dataloader: 4 of 4 masks checked (evenly spread over the '
                           f'10 records of {data / "train.jsonl"}) do not exist')
    assert f'e.g. {data / "masks" / "0.png"};' in line and MAX_FILES_CHECKED >= 10000


def test_a_dataset_that_cannot_be_built_is_named_by_its_key():
    cfg = Config.fromfile(DEMO)
    cfg.val_dataloader.dataset.split = 'holdout'
    assert data_problems(cfg, ['val_dataloader']) == [
        "val_dataloader.dataset: split must be 'train', 'val' or 'test', got 'holdout'"]


def test_the_synthetic_dataset_is_not_generated_by_the_check(tmp_path):
    cfg = Config.fromfile(DEMO)
    cfg.train_dataloader.dataset.cache_dir = str(tmp_path / 'cache')
    assert data_problems(cfg, ['train_dataloader']) == []
    assert not (tmp_path / 'cache').exists()


def test_sam_checkpoint_problems(tmp_path):
    cfg = Config.fromfile(DEMO)
    cfg.model.backbone.arch = 'vit_l'
    cfg.model.sam_checkpoint = str(tmp_path / 'my_sam.pth')  # not an official name
    [line] = sam_checkpoint_problems(cfg)
    assert 'python tools/download_sam_checkpoints.py vit_l (into checkpoints/)' in line
    short = tmp_path / 'sam_vit_h_4b8939.pth'
    short.write_bytes(b'x' * 10)
    cfg.model.sam_checkpoint = str(short)
    assert sam_checkpoint_problems(cfg) == [
        f"SAM checkpoint: '{short}' is 10 bytes, the published sam_vit_h_4b8939.pth is "
        '2564550879: it is cut off or another file; check it with python '
        'tools/download_sam_checkpoints.py vit_h --verify-only and fetch it again']
    cfg.model.sam_checkpoint = None
    assert sam_checkpoint_problems(cfg) == []


def test_a_work_dir_that_is_a_file_is_refused(tmp_path):
    taken = tmp_path / 'taken'
    taken.write_text('keep me')
    message = tool_exit('train.py', DEMO, '--work-dir', taken, '--cfg-options', *FAST_DATA)
    assert message == (f"train.py: work dir '{taken}' is a file, not a folder; give another "
                       'with --work-dir PATH')
    assert taken.read_text() == 'keep me'
    assert folder_problems(str(taken / 'sub'), 'work dir') == [
        f"work dir '{taken / 'sub'}' cannot be made: '{taken}' is a file; give another path"]
