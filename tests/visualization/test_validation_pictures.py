"""A short demo training run draws its validation images (local files and TensorBoard) with
the forgery visualizer, and its console shows RGA's tiny loss_rec with its digits."""
import glob
import os.path as osp
import re
import sys

import cv2
import numpy as np
from mmengine.config import Config
from mmseg.registry import DATASETS

from dadf_mm.visualization import NEUTRAL_RGB, RIGHT_RGB, WRONG_RGB
from dadf_mm.visualization.forgery_visualizer import PANEL_GAP
from tests.helpers.tool_runs import DEMO, FAST_DATA, run_process

SHORT_VALIDATION = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                    'train_dataloader.batch_size=2', 'val_dataloader.dataset.num_samples=4',
                    'val_dataloader.batch_size=2', 'default_hooks.visualization.interval=1',
                    'default_hooks.logger.interval=1']


def test_validation_writes_pictures_with_truth_and_verdict(tmp_path):
    work = tmp_path / 'work'
    proc = run_process([sys.executable, 'tools/train.py', DEMO, '--work-dir', str(work),
                        '--cfg-options', *FAST_DATA, *SHORT_VALIDATION])
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    output = proc.stdout + proc.stderr
    rec = re.findall(r'loss_rec: (\S+)', output)
    assert len(rec) == 2 and all(re.fullmatch(r'\d\.\d{3}e-\d\d', v) for v in rec), rec

    cfg = Config.fromfile(DEMO)
    dataset = DATASETS.build(dict(cfg.val_dataloader.dataset, num_samples=4))
    (vis_dir,) = glob.glob(str(work / '*' / 'vis_data'))
    written = sorted(osp.basename(p) for p in glob.glob(osp.join(vis_dir, 'vis_image', '*')))
    infos = [dataset.get_data_info(i) for i in range(4)]
    assert written == sorted(f'val_{osp.basename(i["img_path"])}_2.png' for i in infos)
    for info in infos:
        name = f'val_{osp.basename(info["img_path"])}_2.png'
        picture = cv2.imread(osp.join(vis_dir, 'vis_image', name))[..., ::-1]  # RGB
        # two 128 px images enlarged to 256 px (truth, prediction), banners on top
        banner = picture.shape[0] - 256
        assert picture.shape[1] == 2 * 256 + PANEL_GAP and banner > 10
        assert tuple(picture[0, 0]) == NEUTRAL_RGB  # the truth panel's banner
        assert tuple(picture[0, -1]) in (RIGHT_RGB, WRONG_RGB)  # the truth is known
        image = cv2.imread(info['img_path'])[..., ::-1]
        expected = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1).astype(np.float32)
        if info['seg_map_path'] is not None:  # a fake: its true mask tinted red
            forged = cv2.imread(info['seg_map_path'], cv2.IMREAD_GRAYSCALE) > 127
            forged = np.repeat(np.repeat(forged, 2, axis=0), 2, axis=1)
            expected[forged] = np.floor(0.5 * expected[forged] + (127.5, 0, 0) + 0.5)
        np.testing.assert_array_equal(picture[banner:, :256], expected.astype(np.uint8))

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(vis_dir)
    events.Reload()
    assert sorted(events.Tags()['images']) == sorted(
        f'val_{osp.basename(i["img_path"])}' for i in infos)

    # tools/test.py --show-dir on the run's checkpoint: every test image, truth and verdict
    show = tmp_path / 'show'
    proc = run_process([sys.executable, 'tools/test.py', DEMO, str(work / 'iter_2.pth'),
                        '--work-dir', str(tmp_path / 'test'), '--show-dir', str(show),
                        '--cfg-options', *FAST_DATA, 'test_dataloader.dataset.num_samples=4'])
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    pictures = sorted(glob.glob(str(show / 'vis_data' / 'vis_image' / 'test_*.png')))
    assert len(pictures) == 4
    for path in pictures:
        picture = cv2.imread(path)[..., ::-1]
        assert picture.shape[1] == 2 * 256 + PANEL_GAP
        assert tuple(picture[0, 0]) == NEUTRAL_RGB
        assert tuple(picture[0, -1]) in (RIGHT_RGB, WRONG_RGB)
