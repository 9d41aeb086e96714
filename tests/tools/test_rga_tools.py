"""The RGA analysis tools: pictures and diagnostics of a checkpoint, the ablation table."""
import json
import os.path as osp
import subprocess
import sys

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = 'configs/dadf/dadf_sam-tiny_synthetic-demo.py'


def test_rga_analysis_draws_forged_and_real_samples(tmp_path):
    """A demo-size DADF with an active enhancer, saved as tools/train.py saves it: the
    tool writes one picture per sample and prints the diagnostics."""
    cfg = Config.fromfile(osp.join(ROOT, DEMO))
    cfg.model.neck.s_norm = 'image'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.neck.enhancer.weight.normal_(std=0.1)
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    out = tmp_path / 'pictures'
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/rga_analysis.py', DEMO, str(ckpt), '--out',
         str(out), '--num-samples', '1', '--device', 'cpu', '--cfg-options',
         'model.neck.s_norm=image'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pictures = sorted(p.name for p in out.iterdir())
    assert len(pictures) == 2 and pictures[0].startswith('01_forged')
    assert pictures[1].startswith('02_real')
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith('RGA over these samples:') and 'alpha_std' in summary


def test_ablation_table_reports_mean_and_spread_over_seeds(tmp_path):
    from tools.analysis_tools.rga_ablation import run_dir, table
    config = 'configs/dadf/ablations/demo/dadf-sf_sam-tiny_synthetic-demo.py'
    for seed, auc in ((0, 80.0), (1, 84.0), (2, 88.0)):
        out = run_dir(str(tmp_path), config, seed)
        (tmp_path / out / 'test').mkdir(parents=True)
        with open(osp.join(out, 'test', 'metrics.json'), 'w') as f:
            json.dump(dict(AUC=auc, ACC=70.0, EER=20.0, PBCA=90.0, IINC=12.0), f)
        vis = tmp_path / out / '20260101_000000' / 'vis_data'
        vis.mkdir(parents=True)
        (vis / 'scalars.json').write_text(
            json.dumps(dict(rga_alpha_std=0.5, step=50)) + '\n'
            + json.dumps(dict(rga_alpha_std=seed * 0.1, step=100)) + '\n')
    text = table([config], [0, 1, 2], str(tmp_path))
    row = text.splitlines()[-1]
    assert '| dadf-sf_sam-tiny_synthetic-demo.py | 3 | 84 ± 4 |' in row  # mean, sample std
    assert '0.1 ± 0.1' in row  # the last logged diagnostic of each seed: 0, 0.1, 0.2


def test_region_contrast_is_forged_over_pristine_on_the_feature_grid():
    """By hand: a 2 x 2 grid over a 4 x 4 mask whose top-left quarter is forged; a cell
    half forged counts as neither part."""
    import numpy as np

    from tools.analysis_tools.rga_analysis import region_contrast
    value = np.array([[6.0, 2.0], [3.0, 1.0]])
    mask = np.zeros((4, 4), np.uint8)
    mask[:2, :2] = 1
    assert region_contrast(value, mask) == 6.0 / 2.0
    mask[2, 2] = 1  # a quarter of the bottom-right cell: no longer pristine
    assert region_contrast(value, mask) == 6.0 / 2.5
    assert np.isnan(region_contrast(value, np.zeros((4, 4), np.uint8)))
