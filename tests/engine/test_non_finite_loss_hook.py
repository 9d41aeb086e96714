"""A NaN or Inf loss (or weight) stops training at its step, before that step is saved:
the checkpoints written before stay as they were and last_checkpoint names the last
finite one (NonFiniteLossHook, on a toy runner that checkpoints every 2 iterations)."""
import hashlib
import itertools
import os
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from dadf_mm.engine import NonFiniteLossError
from tests.helpers.toy_runner import ToyDataset, ToyModel

_runs = itertools.count()


class PoisonWeight(Hook):
    """Sets the toy model's weight to ``value`` at iteration ``iteration`` (1-based):
    before the step (the loss of that step is then ``value``-made) or after the optimizer
    step (the loss was finite, the weights are not)."""
    priority = 'VERY_HIGH'

    def __init__(self, iteration: int, value: float, after_step: bool) -> None:
        self.iteration, self.value, self.after_step = iteration, value, after_step

    def _poison(self, runner) -> None:
        if runner.iter + 1 == self.iteration:
            with torch.no_grad():
                runner.model.linear.weight.fill_(self.value)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if not self.after_step:
            self._poison(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.after_step:
            self._poison(runner)


def make_runner(work_dir, poison: Hook, with_check: bool = True) -> Runner:
    torch.manual_seed(0)
    hooks = [poison] + ([dict(type='NonFiniteLossHook')] if with_check else [])
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), experiment_name=f'nan-{next(_runs)}',
        default_scope='mmseg', custom_hooks=hooks,
        train_dataloader=dict(dataset=ToyDataset(), batch_size=2, collate_fn=dict(
            type='pseudo_collate'), sampler=dict(type='InfiniteSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=6),
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', interval=2,
                                           by_epoch=False)),
        randomness=dict(seed=0, deterministic=True))


def md5(path) -> str:
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def weights(path) -> torch.Tensor:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict'][
        'linear.weight']


def last_checkpoint(work_dir) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


class RecordSaved(Hook):
    """md5 of iter_2.pth right after it is written (the lowest hook runs after saving)."""
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.digest = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        path = osp.join(runner.work_dir, 'iter_2.pth')
        if runner.iter + 1 == 2:
            self.digest = md5(path)


@pytest.mark.parametrize('value,term', [(float('nan'), 'loss=nan'), (float('inf'), 'loss=inf')])
def test_a_non_finite_loss_stops_training_at_its_step(tmp_path, value, term):
    runner = make_runner(tmp_path, PoisonWeight(3, value, after_step=False))
    saved = RecordSaved()
    runner.register_hook(saved, priority='LOWEST')
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    line = str(err.value)
    assert '\n' not in line
    assert 'iteration 3:' in line and term in line, line
    ckpt = osp.join(str(tmp_path), 'iter_2.pth')
    assert f'last_checkpoint still names {ckpt}' in line
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == ['iter_2.pth']
    assert last_checkpoint(tmp_path) == ckpt
    assert md5(ckpt) == saved.digest  # the checkpoint written before is intact
    assert torch.isfinite(weights(ckpt)).all()
    assert runner.iter == 2  # the loop did not count the failed step


def test_finite_loss_with_non_finite_weights_stops_before_they_are_saved(tmp_path):
    """Iteration 4 saves a checkpoint: an optimizer step that leaves NaN weights with a
    finite loss is caught at that step, before the save."""
    runner = make_runner(tmp_path, PoisonWeight(4, float('nan'), after_step=True))
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    line = str(err.value)
    assert 'iteration 4:' in line and 'non-finite weights' in line and 'linear.weight' in line
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == ['iter_2.pth']
    assert last_checkpoint(tmp_path) == osp.join(str(tmp_path), 'iter_2.pth')


def test_without_the_hook_nan_checkpoints_are_saved_and_named(tmp_path):
    """What the hook prevents: mmengine alone trains on, saves NaN weights and points
    last_checkpoint at them."""
    runner = make_runner(tmp_path, PoisonWeight(3, float('nan'), after_step=False),
                         with_check=False)
    runner.train()
    last = last_checkpoint(tmp_path)
    assert last.endswith('iter_6.pth') and torch.isnan(weights(last)).all()


def test_a_finite_run_is_left_alone(tmp_path):
    runner = make_runner(tmp_path, PoisonWeight(3, 0.5, after_step=False))
    runner.train()
    assert last_checkpoint(tmp_path).endswith('iter_6.pth')


def test_the_shipped_runtime_enables_the_check():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/dadf/dadf_sam-tiny_synthetic-demo.py')
    assert dict(type='NonFiniteLossHook') in cfg.custom_hooks
