"""Show a trained model on held-out real and fake images, with their truth.

    python tools/demo_showcase.py CONFIG CHECKPOINT --out work_dirs/demo/showcase

Takes the first ``--per-class`` real and the first ``--per-class`` fake images of the
config's test split (dataset order, no choosing), predicts them as ``tools/test.py`` does,
and writes:

- ``<out>/<truth>_<image>.png``: truth panel (true mask) and prediction panel (predicted
  mask, fake probability, decision, green RIGHT / red WRONG banner);
- ``<out>/showcase.png``: all of them, reals in the top row, fakes in the bottom row;
- ``<out>/showcase.jsonl``: per image its truth, fake probability, decision and verdict;
- ``<out>/inputs/<truth>_<image>.png``: the images themselves, named with their truth, for
  ``tools/infer.py`` (which knows no truth) to be tried on.

Prints a table of the same and how many of each class the model got right: the errors
show, so a reader can tell them from the successes.
"""
import argparse
import json
import os
import os.path as osp
import shutil

import mmcv
import numpy as np
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import dadf_mm  # noqa: F401
from dadf_mm.apis.cpu_path import EXACT_HELP
from dadf_mm.apis.inference import ForgeryInferencer, default_device
from dadf_mm.visualization import Verdict

from tool_setup import building, run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='real and fake test images with truth')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--per-class', type=int, default=4, help='images of each class')
    parser.add_argument('--threshold', type=float, default=None,
                        help="default: the checkpoint's calibrated threshold, else 0.5")
    parser.add_argument('--device', default=default_device())
    parser.add_argument('--exact', action='store_true', help=EXACT_HELP)
    return parser.parse_args()


def pick(dataset, per_class: int) -> list:
    """Indices of the first ``per_class`` real (label 0) and fake (label 1) samples."""
    chosen = {0: [], 1: []}
    for index in range(len(dataset)):
        label = int(dataset.get_data_info(index)['gt_label'])
        if len(chosen[label]) < per_class:
            chosen[label].append(index)
    return chosen[0] + chosen[1]


def sheet(rows: list) -> np.ndarray:
    """Pictures laid out in rows (padded white to a common size)."""
    height = max(p.shape[0] for row in rows for p in row)
    width = max(p.shape[1] for row in rows for p in row)
    cells = [[np.pad(p, ((0, height - p.shape[0] + 6), (0, width - p.shape[1] + 6), (0, 0)),
                     constant_values=255) for p in row] for row in rows]
    columns = max(len(row) for row in cells)
    blank = np.full_like(cells[0][0], 255)
    return np.concatenate([np.concatenate(row + [blank] * (columns - len(row)), axis=1)
                           for row in cells])


def main() -> None:
    args = parse_args()
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(args.config)
    inferencer = building(f'building the model of {args.config}', lambda: ForgeryInferencer(
        cfg, args.checkpoint, device=args.device, threshold=args.threshold,
        exact=args.exact))
    print(f'demo_showcase.py: {inferencer.decision.description}')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    os.makedirs(osp.join(args.out, 'inputs'), exist_ok=True)
    rows = {0: [], 1: []}
    right = {0: 0, 1: 0}
    print(f'{"image":<28} {"truth":<6} {"fake prob.":>10}  {"decision":<8} verdict')
    with open(osp.join(args.out, 'showcase.jsonl'), 'w') as lines:
        for index in pick(dataset, args.per_class):
            packed = dataset[index]
            sample = inferencer.model.test_step(pseudo_collate([packed]))[0]
            truth = int(sample.metainfo['gt_label'])
            verdict = Verdict(float(sample.pred_score), inferencer.threshold, truth)
            path = sample.metainfo['img_path']
            name = f'{"fake" if truth else "real"}_{osp.basename(path)}'
            picture = inferencer.visualizer.draw_sample(
                mmcv.imread(path, channel_order='rgb'), sample)
            mmcv.imwrite(mmcv.rgb2bgr(picture), osp.join(args.out, name))
            shutil.copyfile(path, osp.join(args.out, 'inputs', name))
            rows[truth].append(picture)
            right[truth] += bool(verdict.correct)
            word = 'RIGHT' if verdict.correct else 'WRONG'
            print(f'{name:<28} {"fake" if truth else "real":<6} {verdict.score:>10.4f}  '
                  f'{"FAKE" if verdict.is_fake else "real":<8} {word}')
            lines.write(json.dumps(dict(image=path, picture=name, truth=truth,
                                        fake_probability=round(verdict.score, 6),
                                        is_fake=verdict.is_fake, correct=verdict.correct))
                        + '\n')
    mmcv.imwrite(mmcv.rgb2bgr(sheet([rows[0], rows[1]])), osp.join(args.out, 'showcase.png'))
    print(f'real images judged real: {right[0]} of {len(rows[0])}; fake images judged fake: '
          f'{right[1]} of {len(rows[1])} (threshold {inferencer.threshold:.4g}); pictures in '
          f'{args.out}')


if __name__ == '__main__':
    run_tool(main, 'demo_showcase.py')
