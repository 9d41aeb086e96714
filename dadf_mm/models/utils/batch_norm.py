"""BatchNorm running statistics that advance exactly once per training step.

The adapters normalise with BatchNorm. Two things would run a BatchNorm layer twice in one
training step and so update its running statistics (and ``num_batches_tracked``) twice:
the recomputation of a checkpointed block during backward (it runs the layer again in
training mode), and a second encoder call for the noisy view
(``noise=dict(mode='separate')``).
Inside :func:`running_stats_frozen` a layer still normalises with the statistics of its
batch, as in training, but its running statistics are restored on exit: the second run
leaves no trace.
"""
from contextlib import contextmanager
from typing import Iterator, List, Tuple

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

STAT_BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')


@contextmanager
def running_stats_frozen(module: nn.Module) -> Iterator[None]:
    """Training-mode BatchNorm layers of ``module`` keep their running statistics (running
    mean, variance and ``num_batches_tracked``) as they were on entry.

    Inside, each layer updates copies of its statistics; on exit the originals are put
    back. (Writing the old values back in place would change tensors that autograd saved
    for the backward pass of the first run.)

    Args:
        module (nn.Module): the module whose BatchNorm layers (itself included) to freeze.
    """
    saved: List[Tuple[nn.Module, str, torch.Tensor]] = []
    for layer in module.modules():
        if isinstance(layer, _BatchNorm) and layer.training and layer.track_running_stats:
            for name in STAT_BUFFERS:
                buffer = getattr(layer, name)
                if buffer is not None:
                    saved.append((layer, name, buffer))
                    setattr(layer, name, buffer.clone())
    try:
        yield
    finally:
        for layer, name, buffer in saved:
            setattr(layer, name, buffer)
