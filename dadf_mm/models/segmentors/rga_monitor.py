"""What the segmentor logs about RGA during training, apart from its forward pass.

Every ``diagnostics_interval`` training steps: how much RGA can steer (the spread and
entropy of ``alpha``, mean ``S`` over mean ``|F|``: ``RGANeck.diagnostics``) and
``rga_rec_grad_share``, the share of ``L_rec`` in the gradient of the adapters
(:func:`~..utils.rec_gradient_share`, two extra backward passes). Every
``signal_check_interval`` steps: ``rga_s_corr``, the correlation of the model's ``S``
with that of its float64 twin (:func:`~..rga_fidelity.rga_signal_check`). The values are
scalars logged next to the losses; their keys hold no ``'loss'``, so mmengine does not
add them to the loss it optimises.
"""
from typing import Dict

import torch
from torch import Tensor, nn

from ..utils import rec_gradient_share
from ..utils.rga_fidelity import rga_signal_check


class RGAMonitor:
    """Decides, step by step, which RGA diagnostics a training step logs.

    Args:
        diagnostics_interval (int): Log RGA's statistics and ``rga_rec_grad_share`` every
            N steps (the first step included); 0 never. Defaults to 0.
        signal_check_interval (int): Log ``rga_s_corr`` every N steps; 0 never.
            Defaults to 0.
    """

    def __init__(self, *, diagnostics_interval: int = 0, signal_check_interval: int = 0
                 ) -> None:
        for name, value in (('rga_diagnostics_interval', diagnostics_interval),
                            ('rga_check_interval', signal_check_interval)):
            if int(value) != value or value < 0:
                raise ValueError(f'model.{name} must be an integer >= 0 (0: never), got '
                                 f'{value!r}')
        self.diagnostics_interval = int(diagnostics_interval)
        self.signal_check_interval = int(signal_check_interval)
        self.steps = 0

    def step(self, model: nn.Module, inputs: Tensor, feat: Tensor, diff: Tensor,
             losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The scalars to log with this training step's losses.

        Args:
            model (nn.Module): the DADF segmentor (its ``neck`` and ``backbone``).
            inputs (Tensor): the step's normalised images (B, 3, S, S).
            feat (Tensor): ``F``, still in the graph.
            diff (Tensor): ``F_gau - F``, still in the graph.
            losses (dict): the step's losses so far, still in the graph.

        Returns:
            dict: name to 0-dim tensor; empty on most steps.
        """
        out: Dict[str, Tensor] = {}
        every = self.diagnostics_interval
        if every and self.steps % every == 0:
            out.update(model.neck.diagnostics(feat, diff=diff))
            adapters = getattr(model.backbone, 'adapters', None)
            params = (adapters if adapters is not None else model.backbone).parameters()
            share = rec_gradient_share(losses, params)
            if share is not None:
                out['rga_rec_grad_share'] = share
        every = self.signal_check_interval
        if every and self.steps % every == 0:
            corr = rga_signal_check(model, inputs[:2].detach())
            out['rga_s_corr'] = torch.tensor(corr, device=inputs.device)
        self.steps += 1
        return out
