"""A demo run shortened below its 50-iteration warm-up keeps the shape of its schedule
instead of stopping with "end should be larger than begin"."""
import argparse

import pytest
from mmengine.runner import Runner

from tests.helpers.tool_runs import DEMO, FAST_DATA
from tools.tool_setup import load_config


def learning_rates(work_dir, max_iters: int) -> list:
    """The lr of each iteration of a demo run of ``max_iters``, configured by the tools'
    load_config and built by mmengine's runner as tools/train.py builds it."""
    options = dict(o.split('=') for o in FAST_DATA)
    options = {k: int(v) if v.isdigit() else v == 'True' for k, v in options.items()}
    args = argparse.Namespace(config=DEMO, work_dir=str(work_dir), launcher='none',
                              local_rank=0, allow_new_keys=False,
                              cfg_options={**options, 'train_cfg.max_iters': max_iters})
    runner = Runner.from_cfg(load_config(args, 'train.py'))
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    schedulers = runner.build_param_scheduler(runner.param_schedulers)  # raised ValueError
    rates = []
    for _ in range(max_iters):
        rates.append(runner.optim_wrapper.get_lr()['lr'][0])
        for scheduler in schedulers:
            scheduler.step()
    return rates


@pytest.mark.parametrize('max_iters', [20, 5])
def test_a_run_shorter_than_the_warm_up_keeps_its_schedule(tmp_path, max_iters):
    rates = learning_rates(tmp_path, max_iters)
    assert len(rates) == max_iters
    assert rates[0] == pytest.approx(3e-4)  # a one-step warm-up is dropped, not kept at 0.1x
    assert all(b <= a for a, b in zip(rates, rates[1:]))  # then the cosine, over the run
    assert rates[-1] < 0.5 * rates[0] if max_iters > 5 else rates[-1] < rates[0]


def test_a_run_that_fits_the_warm_up_is_unchanged(tmp_path):
    rates = learning_rates(tmp_path, 60)
    assert rates[0] == pytest.approx(3e-5) and rates[49] > rates[0]  # 50 warm-up steps
    assert rates[50] > rates[-1]


def test_train_py_runs_five_iterations(short_demo_run):
    """The shared 5-iteration run: it trained, said what it changed, and checkpointed."""
    assert 'the run is 5 iters, shorter than the schedule' in short_demo_run.output
    assert 'LinearLR 0-50 dropped' in short_demo_run.output
    assert (short_demo_run.work_dir / 'iter_5.pth').exists()
