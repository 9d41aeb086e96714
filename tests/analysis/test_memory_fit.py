"""The shipped configs fit the GPUs they are meant for, and a run that would not fit
stops before it allocates, naming the keys that make it fit (estimates on meta)."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from dadf_mm.analysis import estimate_config_memory, memory_fit_problem

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GiB = 1024 ** 3


def paper_configs():
    """Every config that trains on real data (not the CPU demo and the other configs on
    synthetic data), one per distinct model, optimizer and batch (the FF++ / FMLD /
    per-method variants share them)."""
    seen, configs = set(), []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)):
        if '_base_' in path or 'demo' in path:
            continue
        cfg = Config.fromfile(path)
        if 'train_dataloader' not in cfg or \
                cfg.train_dataloader.dataset.get('type') == 'SyntheticForgeryDataset':
            continue
        key = json.dumps([cfg.model.to_dict(), cfg.optim_wrapper.to_dict(),
                          cfg.train_dataloader.batch_size], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            configs.append(osp.relpath(path, ROOT))
    return configs


PAPER_CONFIGS = paper_configs()


def test_the_configs_are_found():
    names = [osp.basename(p) for p in PAPER_CONFIGS]
    for expected in ('dadf_vit-h_ffpp-hq.py', 'dadf_vit-b_ffpp-hq.py', 'dadf_vit-l_ffpp-hq.py',
                     'dadf_vit-h_512_ffpp-hq.py', 'sam-lora_vit-h_ffpp-hq.py'):
        assert expected in names


@pytest.mark.parametrize('config', PAPER_CONFIGS)
def test_every_config_trains_at_batch_4_on_its_gpu(config):
    """Paper settings at batch 4 on one 80 GB GPU; the _512_ configs on 24 GB."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.train_dataloader.batch_size == 4
    estimate = estimate_config_memory(cfg, mode='train', target='cuda')
    budget = (24 if '_512_' in config else 80) * 10**9  # a "24 GB" / "80 GB" card
    assert estimate.required <= budget, (
        f'{config}: {estimate.required / GiB:.1f} GiB estimated with the margin')


def test_a_run_that_does_not_fit_is_refused_with_the_keys_to_change(tmp_path):
    """ViT-B at 1024 px without the exact savers needs more than 24 GiB; train.py stops
    before building anything and names grad_checkpointing; with them it would fit."""
    work_dir = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', 'configs/dadf/dadf_vit-b_ffpp-hq.py',
         '--device-memory', '24', '--work-dir', str(work_dir), '--cfg-options',
         'model.backbone.grad_checkpointing=False', 'model.backbone.attn_impl=sdpa'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('train.py: configs/dadf/dadf_vit-b_ffpp-hq.py: the training step')
    assert 'model.backbone.grad_checkpointing=True' in last and '--skip-memory-check' in last
    assert not work_dir.exists()


def test_the_fit_check_suggests_the_smallest_change_that_fits():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/dadf/dadf_vit-b_ffpp-hq.py'))
    assert memory_fit_problem(cfg, device_bytes=80 * GiB) is None
    problem = memory_fit_problem(cfg, device_bytes=2 * GiB)
    assert 'train_dataloader.batch_size=' in problem or 'Not even batch 1' in problem


def test_the_fit_is_checked_against_the_margin_not_the_modelled_total():
    """A GPU that holds everything modelled but not the margin for fragmentation and
    unmodelled workspaces is refused; one that holds the margin too is accepted."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/dadf/dadf_vit-b_ffpp-hq.py'))
    est = estimate_config_memory(cfg, mode='train', target='cuda')
    assert est.margin == int(0.10 * est.peak) > 0
    assert est.required == est.total + est.margin
    between = (est.total + est.required) // 2
    problem = memory_fit_problem(cfg, device_bytes=between)
    assert problem is not None and 'margin' in problem
    assert memory_fit_problem(cfg, device_bytes=est.required) is None


def test_a_distributed_run_counts_ddp_gradient_buckets():
    """DDP keeps a bucket copy of every trainable gradient: exactly the gradients' bytes."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/dadf/dadf_vit-b_ffpp-hq.py'))
    single = estimate_config_memory(cfg, mode='train', target='cuda', batch_size=1)
    ddp = estimate_config_memory(cfg, mode='train', target='cuda', batch_size=1,
                                 distributed=True)
    assert single.ddp_buckets == 0
    assert ddp.ddp_buckets == ddp.gradients > 0
    assert ddp.total == single.total + ddp.gradients


def test_the_dadf_runtime_turns_cudnn_benchmarking_off():
    """cuDNN's benchmark mode tries algorithms with workspaces bounded only by free memory,
    which no estimate can hold; the DADF runtime (and so every shipped config) turns it off."""
    for config in PAPER_CONFIGS:
        cfg = Config.fromfile(osp.join(ROOT, config))
        assert cfg.env_cfg.cudnn_benchmark is False, config
