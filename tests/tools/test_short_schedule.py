"""Schedules measured in fractions of the run: the demo's WarmupCosineLR gives at full
length exactly the learning rates of mmengine's LinearLR + CosineAnnealingLR chain (what the
demo used before), and every config builds its schedulers at 2 iterations (or 1 epoch),
where a warm-up fixed at 50 iterations stopped with "end should be larger than begin"."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR
from mmseg.registry import PARAM_SCHEDULERS
from mmseg.utils import register_all_modules

from dadf_mm.engine import WarmupCosineLR
from tests.helpers.tool_runs import DEMO, ROOT

register_all_modules(init_default_scope=False)


def optimizer(lr: float = 3e-4) -> torch.optim.Optimizer:
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def rates(schedulers, opt, steps: int) -> list:
    """The lr of each of ``steps`` iterations, stepping as ParamSchedulerHook does."""
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]['lr'])
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
    return out


def demo_rates(max_iters: int) -> list:
    """The demo config's param_scheduler, built as the runner builds it (``end`` set to
    ``max_iters`` where the config leaves it out)."""
    opt = optimizer()
    schedulers = []
    for cfg in Config.fromfile(DEMO).param_scheduler:
        cfg = dict(cfg)
        cfg.setdefault('end', max_iters)
        schedulers.append(PARAM_SCHEDULERS.build(cfg, default_args=dict(optimizer=opt)))
    return rates(schedulers, opt, max_iters)


def test_full_length_gives_mmengine_chains_rates_to_the_bit():
    """The demo's schedule before: LinearLR 0-50 (0.1x) then CosineAnnealingLR 50-1500."""
    opt = optimizer()
    chain = [LinearLR(opt, start_factor=0.1, begin=0, end=50, by_epoch=False),
             CosineAnnealingLR(opt, eta_min=1e-6, begin=50, end=1500, by_epoch=False)]
    reference = rates(chain, opt, 1500)
    ours = demo_rates(1500)
    assert len(ours) == 1500
    assert ours == reference  # every iteration, bit for bit
    assert ours[0] == pytest.approx(3e-5) and ours[50] == pytest.approx(3e-4, rel=1e-12)


def test_hand_computed_rates_of_a_short_run():
    """60 iterations: a 2-step warm-up (60 / 30), then the cosine over 58 steps."""
    lr = demo_rates(60)
    assert lr[0] == pytest.approx(3e-5, rel=1e-12)  # 0.1x
    assert lr[1] == pytest.approx(3e-4, rel=1e-12)  # the warm-up's end: 1x
    for k in (2, 17, 59):  # eta_min + (base - eta_min) (1 + cos(pi c / T)) / 2, c = k - 2
        want = 1e-6 + (3e-4 - 1e-6) * (1 + math.cos(math.pi * (k - 2) / 58)) / 2
        assert lr[k] == pytest.approx(want, rel=1e-9), k


@pytest.mark.parametrize('max_iters', [1, 2, 5, 20])
def test_a_run_shorter_than_two_warm_up_steps_has_none(max_iters):
    lr = demo_rates(max_iters)
    assert len(lr) == max_iters and lr[0] == 3e-4  # no warm-up: 20 / 30 < 2 steps
    for k, value in enumerate(lr):
        want = 1e-6 + (3e-4 - 1e-6) * (1 + math.cos(math.pi * k / max_iters)) / 2
        assert value == pytest.approx(want, rel=1e-9), k


def test_warm_up_steps_round_and_leave_the_cosine_a_step():
    run = [WarmupCosineLR(optimizer(), warmup_ratio=r, end=n, by_epoch=False).warmup_steps
           for r, n in ((1 / 30, 1500), (1 / 30, 45), (1 / 30, 44), (0.5, 3), (1.0, 4),
                        (0.0, 100))]
    assert run == [50, 2, 0, 2, 3, 0]  # 45/30 = 1.5 rounds to 2; 44/30 to 1: none


def test_an_end_left_unset_outside_a_runner_is_one_clear_error():
    with pytest.raises(ValueError, match='WarmupCosineLR needs an end'):
        WarmupCosineLR(optimizer(), by_epoch=False)


CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_every_config_builds_its_schedulers_for_the_shortest_run(path):
    """What the runner does at the start of training, at max_iters 2 (or max_epochs 1,
    100 iterations an epoch); a warm-up fixed at 50 iterations raised "end should be larger
    than begin"."""
    cfg = Config.fromfile(path)
    by_epoch = 'max_epochs' in cfg.train_cfg
    length = 1 if by_epoch else 2
    opt = optimizer()
    schedulers = cfg.param_scheduler
    for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
        scheduler = dict(scheduler)
        scheduler.setdefault('end', length)  # as the runner does
        built = PARAM_SCHEDULERS.build(scheduler, default_args=dict(optimizer=opt,
                                                                    epoch_length=100))
        assert built.end <= (length * 100 if by_epoch else length), path  # ends with the run


def test_train_py_runs_five_iterations(short_demo_run):
    """The shared 5-iteration demo run (a tenth of the old 50-iteration warm-up) trained
    and checkpointed with the config's own schedule."""
    assert (short_demo_run.work_dir / 'iter_5.pth').exists()


def test_an_epoch_based_config_converts_to_iterations():
    built = PARAM_SCHEDULERS.build(
        dict(type='WarmupCosineLR', warmup_ratio=1 / 30, by_epoch=True,
             convert_to_iter_based=True, end=2),
        default_args=dict(optimizer=optimizer(), epoch_length=30))
    assert (built.by_epoch, built.end, built.warmup_steps) == (False, 60, 2)
