"""Stop training at the step whose loss or weights stop being finite.

A diverging learning rate (or a NaN anywhere in the step) makes every later step NaN:
mmengine goes on logging ``loss: nan``, saves NaN checkpoints and points
``last_checkpoint`` at them. This hook checks every loss term of each step (the values
``train_step`` returns) and the trained weights after the optimizer step; the first step
at which one is NaN or Inf ends training with one line naming the step and the terms,
before any hook saves a checkpoint of that step (checkpoints are written after it).
Earlier checkpoints and ``last_checkpoint`` stay as they were, naming the last finite
one. The shipped runtime config enables it.
"""
import math
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """A loss term or a trained weight became NaN or Inf; the message names the step."""


def _describe(value: float) -> str:
    return 'nan' if math.isnan(value) else ('inf' if value > 0 else '-inf')


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` at the first step with a NaN or Inf loss term
    (every logged value whose name contains ``'loss'``) or trained weight.

    Args:
        check_weights (bool): also check the trained parameters after the optimizer step
            (a finite loss with an infinite gradient leaves NaN weights that would be
            saved). Defaults to True.
    """
    # after the runtime-info hook, before the logger, the schedulers and the checkpoint
    # hook of the same step
    priority = 'ABOVE_NORMAL'

    def __init__(self, *, check_weights: bool = True) -> None:
        self.check_weights = check_weights

    @staticmethod
    def _trained(runner) -> Dict[str, torch.Tensor]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return {n: p for n, p in model.named_parameters() if p.requires_grad}

    def _weights_bad(self, params: Dict[str, torch.Tensor]) -> Optional[torch.Tensor]:
        """A 0-d flag (1 if some weight is not finite), computed without a sync."""
        if not self.check_weights or not params:
            return None
        device = next(iter(params.values())).device
        # one fused max-magnitude per parameter (NaN stays NaN), then one flag
        peaks = torch._foreach_norm([p.detach() for p in params.values()], float('inf'))
        return (~torch.isfinite(torch.stack([v.float().to(device) for v in peaks]))).any().float()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        terms = {k: v for k, v in (outputs or {}).items()
                 if 'loss' in k and isinstance(v, torch.Tensor)}
        params = self._trained(runner)
        flags: List[torch.Tensor] = [(~torch.isfinite(v.detach())).any().float()
                                     for v in terms.values()]
        weights = self._weights_bad(params)
        if weights is not None:
            flags.append(weights)
        if not flags:
            return
        device = next(iter(terms.values())).device if terms else weights.device
        bad = torch.stack([f.to(device) for f in flags])
        if get_world_size() > 1:  # every process stops at the same step
            all_reduce(bad, op='sum')
        if not bool(bad.any()):
            return
        message = self.message(runner, terms, params)
        runner.logger.error(message)
        raise NonFiniteLossError(message)

    @staticmethod
    def message(runner, terms: Dict[str, torch.Tensor],
                params: Dict[str, torch.Tensor]) -> str:
        """The one line: the step, what is not finite, what is kept and what to do.

        Args:
            runner (Runner): The runner, at the step that failed.
            terms (dict[str, Tensor]): The step's loss terms, by name.
            params (dict[str, Tensor]): The trained parameters, by name.

        Returns:
            str: The message, on one line.
        """
        step = runner.iter + 1
        values = {k: float(v.detach().float().mean()) for k, v in terms.items()}
        named = {k: v for k, v in values.items() if not math.isfinite(v)}
        parts = [k for k in named if k != 'loss'] or list(named)
        if parts:
            what = 'non-finite loss: ' + ', '.join(f'{k}={_describe(named[k])}'
                                                   for k in parts)
        else:
            weights = [n for n, p in params.items() if not torch.isfinite(p.detach()).all()]
            what = ('non-finite weights after the optimizer step with finite losses: '
                    + (', '.join(weights[:2]) + (f' and {len(weights) - 2} more'
                                                 if len(weights) > 2 else '')
                       if weights else 'on another process'))
        last_file = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(last_file):
            with open(last_file) as f:
                kept = f'last_checkpoint still names {f.read().strip()}, the last finite one'
        else:
            kept = 'no checkpoint was saved before it'
        return (f'training stopped at iteration {step}: {what}; '
                f'this step is not saved and {kept}. Lower optim_wrapper.optimizer.lr or '
                'set optim_wrapper.clip_grad=dict(max_norm=1.0), then train again '
                '(--resume continues from last_checkpoint)')
