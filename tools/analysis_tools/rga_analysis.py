"""Where does RGA look? S and alpha of a trained DADF next to the image and its mask.

    python tools/analysis_tools/rga_analysis.py CONFIG CHECKPOINT --out rga_pictures/
    python tools/analysis_tools/rga_analysis.py CONFIG CHECKPOINT --num-samples 3 --split val

For a few forged and a few real samples of the config's test (or validation) set it
writes one picture per sample (image, ground-truth mask, ``S`` averaged over channels,
the spread of ``alpha`` over channels, the predicted probability) and prints RGA's
diagnostics over those samples (``RGANeck.diagnostics``): with the paper's formulation
``alpha`` is 1 to O(sigma), so its panel is flat; with the scale-free one it is not.

It also prints, over the forged samples, whether RGA's premise holds in this model: the
mean ``S`` on the forged part of the feature grid (cells more than half forged) over the
mean ``S`` on its pristine part (cells with no forged pixel), and the same ratio for
``alpha``. 1 means the noise response does not single out the forgery, so there is
nothing for RGA to steer towards.
"""
import argparse
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction

from dadf_mm.apis.inference import default_device


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default='rga_analysis', help='folder for the pictures')
    parser.add_argument('--num-samples', type=int, default=4,
                        help='forged and as many real samples (default 4 each)')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--device', default=default_device(),
                        help="'cpu', 'cuda', 'cuda:1' ... (default: cuda when available)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args()


def pick_samples(dataset, num: int) -> List[int]:
    """The first ``num`` forged and ``num`` real samples of the dataset."""
    fake, real = [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        (fake if info.get('gt_label', 0) == 1 else real).append(i)
        if len(fake) >= num and len(real) >= num:
            break
    return fake[:num] + real[:num]


def region_contrast(value: np.ndarray, mask: np.ndarray) -> float:
    """Mean of ``value`` (h x w, the feature grid) on the cells of ``mask`` (H x W, 0/1)
    more than half forged, over its mean on the cells with no forged pixel; NaN when
    either part is empty."""
    h, w = value.shape
    share = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    forged, pristine = share > 0.5, share == 0
    if not forged.any() or not pristine.any():
        return float('nan')
    return float(value[forged].mean() / max(float(value[pristine].mean()), 1e-30))


def picture(path: str, image: np.ndarray, mask: np.ndarray, s_map: np.ndarray,
            alpha_map: np.ndarray, prob: np.ndarray, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [(image[..., ::-1], 'image', None), (mask, 'ground truth', 'gray'),
              (s_map, 'S (channel mean)', 'magma'), (alpha_map, 'alpha (channel std)', 'viridis'),
              (prob, 'fake probability', 'inferno')]
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.3))
    for ax, (data, name, cmap) in zip(axes, panels):
        shown = ax.imshow(data, cmap=cmap)
        ax.set_title(name, fontsize=9)
        ax.axis('off')
        if cmap not in (None, 'gray'):
            fig.colorbar(shown, ax=ax, fraction=0.046, format='%.2g')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules

    from dadf_mm.apis.inference import ForgeryInferencer
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    inferencer = ForgeryInferencer(cfg, args.checkpoint, device=args.device, batch_size=1,
                                   cfg_options=args.cfg_options)
    model = inferencer.model
    if not getattr(model, 'with_neck', False) or not hasattr(model.neck, 'diagnostics'):
        raise SystemExit(f'rga_analysis.py: {args.config} has no RGA neck (model.neck)')
    loader_cfg = cfg.test_dataloader if args.split == 'test' else cfg.val_dataloader
    dataset = DATASETS.build(loader_cfg.dataset)
    captured: Dict[str, torch.Tensor] = {}

    def capture(module, inputs, output) -> None:
        feat, diff = inputs
        captured.update(feat=feat, diff=diff, alpha=module.attention_map(diff))

    model.neck.register_forward_hook(capture)
    os.makedirs(args.out, exist_ok=True)
    totals: Dict[str, List[float]] = {}
    indices = pick_samples(dataset, args.num_samples)
    for n, index in enumerate(indices, 1):
        sample = dataset[index]
        info = dataset.get_data_info(index)
        image = sample['inputs'].permute(1, 2, 0).numpy().copy()  # BGR, as loaded
        mask = sample['data_samples'].gt_sem_seg.data[0].numpy()
        name = info['img_path']
        pred = inferencer.predict([image], [name])[0]
        stats = model.neck.diagnostics(captured['feat'], captured['diff'])
        for key, value in stats.items():
            totals.setdefault(key, []).append(float(value))
        s_map = captured['diff'].abs().mean(1)[0].float().cpu().numpy()
        alpha_map = captured['alpha'].std(1)[0].float().cpu().numpy()
        label = 'forged' if info.get('gt_label', 0) == 1 else 'real'
        if label == 'forged':
            alpha_mean = captured['alpha'].mean(1)[0].float().cpu().numpy()
            totals.setdefault('rga_s_forged_over_pristine', []).append(
                region_contrast(s_map, mask))
            totals.setdefault('rga_alpha_forged_over_pristine', []).append(
                region_contrast(alpha_mean, mask))
        title = (f'{osp.basename(name)}: {label}, predicted {pred.fake_probability:.2f}; '
                 f"alpha std {float(stats['rga_alpha_std']):.3g}")
        path = osp.join(args.out, f'{n:02d}_{label}_{osp.splitext(osp.basename(name))[0]}.png')
        picture(path, image, mask, s_map, alpha_map, pred.probability_map, title)
        print(f'[{n}/{len(indices)}] {path}', flush=True)
    print('RGA over these samples: ' + ', '.join(
        f'{k[4:]} {np.nanmean(v):.3g}' for k, v in totals.items()))


if __name__ == '__main__':
    main()
