"""A linear warm-up then a cosine decay, both measured in fractions of the run.

mmengine's ``LinearLR`` (0 to 50) followed by ``CosineAnnealingLR`` (50 to the end) fixes
the warm-up in iterations, so a run shortened to 2 iterations (``--cfg-options
train_cfg.max_iters=2``) stops with "end should be larger than begin". This scheduler
leaves ``end`` to the runner (which sets it to ``max_iters``, or ``max_epochs``, when the
config leaves it out) and takes the warm-up as a fraction of ``end - begin``; a warm-up
that would last under 2 steps is left out (a one-step ``LinearLR`` only multiplies its first
step by ``warmup_start_factor``). Where the warm-up is ``W`` steps the learning rates are
those of ``LinearLR(start_factor, begin=0, end=W)`` then ``CosineAnnealingLR(eta_min,
begin=W)``, computed by the same chainable formulas, so they agree to the last bit.
"""
import math
from typing import List, Union

from mmengine.optim import BaseOptimWrapper
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from mmseg.registry import PARAM_SCHEDULERS
from torch.optim import Optimizer

#: a warm-up shorter than this many steps is left out
MIN_WARMUP_STEPS = 2


def warmup_steps(length: int, warmup_ratio: float) -> int:
    """The number of warm-up steps in a schedule of ``length`` steps.

    Args:
        length (int): The schedule's length in steps (``end - begin``).
        warmup_ratio (float): The warm-up's share of the schedule, in [0, 1].

    Returns:
        int: ``round(warmup_ratio * length)``, at most ``length - 1`` (the cosine gets at
        least one step); 0 where that is under :data:`MIN_WARMUP_STEPS`.
    """
    steps = min(int(round(warmup_ratio * length)), length - 1)
    return steps if steps >= MIN_WARMUP_STEPS else 0


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(_ParamScheduler):
    """Linear warm-up over ``warmup_ratio`` of the run, then cosine annealing to
    ``eta_min`` at the run's end.

    Args:
        optimizer (Optimizer | BaseOptimWrapper): The (wrapped) optimizer.
        warmup_ratio (float): The warm-up's share of ``end - begin``, in [0, 1].
            Defaults to 0 (no warm-up).
        warmup_start_factor (float): The learning rate's factor at the first step, rising
            linearly to 1 at the warm-up's end. Defaults to 0.1.
        eta_min (float): The learning rate at the end of the cosine. Defaults to 0.
        begin (int): The step at which the schedule starts. Defaults to 0.
        end (int): The step at which it ends; the runner sets the run's length when the
            config leaves it out. Defaults to INF (refused: a cosine needs an end).
        last_step (int): The last step's index, for resuming without a state dict.
            Defaults to -1.
        by_epoch (bool): Whether the steps are epochs. Defaults to True.
        verbose (bool): Whether to print each update. Defaults to False.
    """

    def __init__(self,
                 optimizer: Union[Optimizer, BaseOptimWrapper],
                 *,
                 warmup_ratio: float = 0.0,
                 warmup_start_factor: float = 0.1,
                 eta_min: float = 0.0,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        if end == INF:
            raise ValueError('WarmupCosineLR needs an end: leave `end` out of the config '
                             '(the runner sets it to train_cfg.max_iters or max_epochs)')
        if not 0.0 <= warmup_ratio <= 1.0:
            raise ValueError(f'WarmupCosineLR: warmup_ratio must be in [0, 1], got '
                             f'{warmup_ratio}')
        if not 0.0 < warmup_start_factor <= 1.0:
            raise ValueError(f'WarmupCosineLR: warmup_start_factor must be in (0, 1], got '
                             f'{warmup_start_factor}')
        self.warmup_ratio = warmup_ratio
        self.warmup_start_factor = warmup_start_factor
        self.eta_min = eta_min
        self.warmup_steps = warmup_steps(end - begin, warmup_ratio) if end > begin else 0
        self.cosine_steps = end - begin - self.warmup_steps
        super().__init__(optimizer, 'lr', begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin: int = 0, end: int = INF,
                              by_epoch: bool = True, epoch_length: int = None, **kwargs):
        """An iteration-based instance of an epoch-based config (``convert_to_iter_based``).

        Args:
            *args: The optimizer.
            begin (int): The first epoch. Defaults to 0.
            end (int): The epoch at which it ends. Defaults to INF.
            by_epoch (bool): Must be True (the config counts epochs). Defaults to True.
            epoch_length (int): Iterations per epoch. Defaults to None.
            **kwargs: The other arguments of :class:`WarmupCosineLR`.

        Returns:
            WarmupCosineLR: The scheduler counting iterations.
        """
        assert by_epoch, 'only an epoch-based config (by_epoch=True) converts to iterations'
        assert epoch_length is not None and epoch_length > 0, 'epoch_length must be > 0'
        end = end if end == INF else int(end * epoch_length)
        return cls(*args, begin=int(begin * epoch_length), end=end, by_epoch=False, **kwargs)

    def _warmup_value(self, step: int, value: float) -> float:
        # LinearParamScheduler._get_value with end_factor 1 and total_iters warmup_steps - 1
        start = self.warmup_start_factor
        if step == 0:
            return value * start
        rise = 1.0 - start
        return value * (1. + rise / ((self.warmup_steps - 1) * start + (step - 1) * rise))

    def _cosine_value(self, step: int, value: float) -> float:
        # CosineAnnealingParamScheduler._get_value with T_max = the cosine's steps
        if step == 0:
            return value
        t_max = self.cosine_steps
        return ((1 + math.cos(math.pi * step / t_max)) /
                (1 + math.cos(math.pi * (step - 1) / t_max)) *
                (value - self.eta_min) + self.eta_min)

    def _get_value(self) -> List[float]:
        """The learning rate of each parameter group at this step (chainable form).

        Returns:
            list[float]: One learning rate per parameter group.
        """
        step = self.last_step
        groups = self.optimizer.param_groups
        if step < self.warmup_steps:
            return [self._warmup_value(step, g[self.param_name]) for g in groups]
        return [self._cosine_value(step - self.warmup_steps, g[self.param_name])
                for g in groups]
