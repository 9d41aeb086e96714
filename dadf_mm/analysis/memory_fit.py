"""Will a training run fit its GPU? Asked before anything is allocated.

``tools/train.py`` calls :func:`memory_fit_problem` on a GPU machine with the device's
memory: the step is estimated on the meta device (seconds, no allocation,
:func:`~.memory_config.estimate_config_memory`), and a run whose estimate exceeds the
device stops with one message that names the keys to change, in the order a user should
try them: the exact memory savers first (per-block recomputation, SAM's relative-position
bias folded into fused attention; neither changes what is computed), then a smaller batch.
"""
import copy
from typing import Any, Callable, Dict, List, Optional, Tuple

from .memory_config import estimate_config_memory
from .memory_report import MemoryEstimate

GiB = 1024 ** 3
EXACT_SAVERS: Tuple[Tuple[str, Any], ...] = (
    ('model.backbone.grad_checkpointing', True),
    ('model.backbone.attn_impl', 'sdpa_folded'),
)


def _get(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split('.'):
        node = node.get(part) if hasattr(node, 'get') else None
    return node


def _with(cfg: Any, options: Dict[str, Any]) -> Any:
    out = copy.deepcopy(cfg)
    for key, value in options.items():
        *path, last = key.split('.')
        node = out
        for part in path:
            node = node[part]
        node[last] = value
    return out


def memory_fit_problem(cfg: Any, *, device_bytes: int, device_name: str = 'this GPU',
                       distributed: bool = False,
                       estimate: Callable[..., MemoryEstimate] = estimate_config_memory
                       ) -> Optional[str]:
    """``None`` when the training step of ``cfg`` is estimated to fit ``device_bytes``,
    else a message with the estimate and the ``--cfg-options`` that make it fit.

    Args:
        cfg (Config): the training config, as ``tools/train.py`` runs it.
        device_bytes (int): the memory of one GPU (one process uses one).
        device_name (str): how the message names the device. Defaults to 'this GPU'.
        distributed (bool): one process of a DDP run (its gradient buckets count).
            Defaults to False.
        estimate (Callable[..., MemoryEstimate]): the estimator
            (``estimate_config_memory``'s signature). Defaults to
            :func:`estimate_config_memory`.

    Returns:
        str | None: the problem, or None.
    """
    def run(config: Any) -> MemoryEstimate:
        return estimate(config, mode='train', target='cuda', distributed=distributed)

    first = run(cfg)
    if first.required <= device_bytes:
        return None
    options: Dict[str, Any] = {}
    lines: List[str] = []
    for key, value in EXACT_SAVERS:
        if _get(cfg, key) != value:
            options[key] = value
    fitting = None
    if options:
        saved = run(_with(cfg, options))
        if saved.required <= device_bytes:
            fitting = (options, saved)
    if fitting is None:
        batch = int(cfg.train_dataloader.batch_size)
        while batch > 1 and fitting is None:
            batch //= 2
            trial = dict(options, **{'train_dataloader.batch_size': batch})
            smaller = run(_with(cfg, trial))
            if smaller.required <= device_bytes:
                fitting = (trial, smaller)
    desc = first.description
    lines.append(
        f'the training step needs about {first.required / GiB:.1f} GiB (estimated for '
        f"batch {desc.get('batch_size')} at {desc.get('img_size')} px: "
        f'{first.peak / GiB:.1f} GiB of tensors at its peak, in {first.peak_phase}, '
        f'{(first.total - first.peak) / GiB:.1f} GiB of context, workspaces and rounding, '
        f'{first.margin / GiB:.1f} GiB margin), more than {device_name} has '
        f'({device_bytes / GiB:.1f} GiB).')
    if fitting is not None:
        trial, est = fitting
        keys = ' '.join(f'{k}={v}' for k, v in trial.items())
        lines.append(f'It fits with --cfg-options {keys} (about {est.required / GiB:.1f} GiB).')
    else:
        lines.append('Not even batch 1 with checkpointing and folded attention fits: use '
                     'a _512_ config or a GPU with more memory.')
    lines.append('Estimate any setting with tools/analysis_tools/memory_estimate.py; '
                 'train anyway with --skip-memory-check.')
    return ' '.join(lines)
