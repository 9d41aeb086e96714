"""tools/test.py prints every localisation figure beside its baselines and writes their keys;
the constant disc comes from the checkpoint, else from the config's training set."""
import importlib.util
import json
import math
import re
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.helpers.mask_sets import LARGE, SMALL, SMALL_LARGE_DISC, write_mask_set
from tests.helpers.tool_runs import DEMO, FAST_DATA, ROOT, SMALL_TEST, run_process

#: a disc unlike the demo's training masks, so that the test shows where it came from
SAVED_DISC = dict(center_x=0.35, center_y=0.6, area=0.15, num_masks=9)
BASELINE_KEYS = {f'baseline/{b}/{k}' for b in ('empty', 'disc', 'disc_where_fake')
                 for k in ('PBCA', 'IINC', 'pixel_F1', 'pixel_IoU')}


def demo_checkpoint(path, meta: dict) -> str:
    """The demo model at a seeded initialisation, saved with ``meta``."""
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import dadf_mm  # noqa: F401
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO).model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, str(path))
    return str(path)


def drawn(height, width):
    """SAVED_DISC pixel by pixel, from its definition."""
    radius2 = SAVED_DISC['area'] / math.pi
    ys, xs = np.mgrid[0:height, 0:width]
    return ((xs + 0.5) / width - SAVED_DISC['center_x'])**2 + \
        ((ys + 0.5) / height - SAVED_DISC['center_y'])**2 <= radius2


def disc_reference(predictions):
    """Mean IoU over the forged images of the disc on every image, and PBCA of the disc
    where the model says fake, from the test set's mask files."""
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({'test_dataloader.dataset.num_samples': 4})
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    ious, pbcas = [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        image = cv2.imread(info['img_path'])
        gt = np.zeros(image.shape[:2], bool) if info['seg_map_path'] is None else \
            cv2.imread(info['seg_map_path'], cv2.IMREAD_GRAYSCALE) > 127
        disc = drawn(*gt.shape)
        if gt.any():
            ious.append((disc & gt).sum() / (disc | gt).sum())
        where_fake = disc if predictions[info['img_path']] else np.zeros_like(disc)
        pbcas.append((where_fake == gt).mean())
    return 100 * np.mean(ious), 100 * np.mean(pbcas)


def test_test_py_prints_the_baselines_of_the_checkpoints_disc(tmp_path):
    checkpoint = demo_checkpoint(tmp_path / 'demo.pth', dict(constant_disc=SAVED_DISC))
    out = tmp_path / 'out'
    proc = run_process([sys.executable, 'tools/test.py', DEMO, checkpoint, '--out', str(out),
                        '--work-dir', str(tmp_path / 'work'), '--cfg-options', *FAST_DATA,
                        *SMALL_TEST])
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert 'constant disc: from the checkpoint (fitted on 9 training masks)' in output
    metrics = json.loads((out / 'metrics.json').read_text())
    assert BASELINE_KEYS <= set(metrics)
    records = [json.loads(line) for line in (out / 'predictions.jsonl').read_text().splitlines()]
    iou, pbca = disc_reference({r['img_path']: r['is_fake'] for r in records})
    assert metrics['baseline/disc/pixel_IoU'] == pytest.approx(iou)
    assert metrics['baseline/disc_where_fake/PBCA'] == pytest.approx(pbca)
    # the table: one row per metric, the model and the three baselines
    assert re.search(r'localisation \(4 images, \d of them forged\): the model against '
                     'baselines', proc.stdout)
    assert re.search(r'metric +model +empty mask +disc on every image +disc where the model '
                     'says fake', proc.stdout)
    row = re.search(r'^pixel_IoU((?: +[-\d.]+){4})$', proc.stdout, re.M)
    assert row, proc.stdout[-2000:]
    assert [float(v) for v in row.group(1).split()] == pytest.approx(
        [metrics[k] for k in ('pixel_IoU', 'baseline/empty/pixel_IoU',
                              'baseline/disc/pixel_IoU', 'baseline/disc_where_fake/pixel_IoU')],
        abs=0.006)


@pytest.fixture
def test_py(monkeypatch):
    """tools/test.py as a module (its folder on the import path, as when it runs), the lines
    it logs kept in its ``logged`` list."""
    monkeypatch.syspath_prepend(f'{ROOT}/tools')
    spec = importlib.util.spec_from_file_location('test_py_tool', f'{ROOT}/tools/test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.logged = []
    module.print_log = lambda msg, *args, **kwargs: module.logged.append(msg)
    return module


def train_config(dataset) -> Config:
    return Config(dict(train_dataloader=dict(dataset=dataset)))


def test_without_a_saved_disc_test_py_fits_one_on_the_training_set(test_py, tmp_path):
    write_mask_set(tmp_path, dict(small=SMALL, large=LARGE))
    cfg = train_config(dict(type='ForgeryFolderDataset', data_root=str(tmp_path),
                            ann_file='list.jsonl', pipeline=[]))
    disc = test_py.constant_disc(cfg, dict(meta=dict(iter=5)))
    assert disc.to_dict() == pytest.approx(SMALL_LARGE_DISC)
    assert any("fitting it on the config's training set ForgeryFolderDataset" in line
               for line in test_py.logged)


def test_without_a_disc_or_training_set_one_line_says_why(test_py, tmp_path):
    missing = train_config(dict(type='ForgeryFolderDataset', data_root=str(tmp_path),
                                ann_file='absent.jsonl', pipeline=[]))
    assert test_py.constant_disc(missing, {}) is None
    assert test_py.constant_disc(Config(dict()), {}) is None
    lines = [line for line in test_py.logged if 'only the empty-mask baseline is shown' in line]
    assert len(lines) == 2
    assert 'absent.jsonl' in lines[0] and 'no train_dataloader.dataset' in lines[1]
