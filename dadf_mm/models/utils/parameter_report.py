"""How many parameters DADF trains, against SAM's own count (paper: 18.64 %)."""
from collections import OrderedDict
from typing import Dict

from torch import nn


def count(module: nn.Module, trainable_only: bool = False) -> int:
    """The number of parameters of ``module``.

    Args:
        module (nn.Module): The module.
        trainable_only (bool): Count only parameters with ``requires_grad``.
            Defaults to False.

    Returns:
        int: The number of parameter elements.
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def parameter_report(model: nn.Module, sam_params: int) -> Dict[str, object]:
    """Totals and a per-part breakdown of a DADF model.

    ``sam_params`` is the parameter count of the whole SAM model of the same arch (image
    encoder, prompt encoder, mask decoder), so ``trainable_share_of_sam`` is comparable
    with the paper's 18.64 %.

    Args:
        model (nn.Module): The DADF model (its ``data_preprocessor`` is left out).
        sam_params (int): The parameter count of the whole SAM model of the same arch.

    Returns:
        dict[str, object]: ``total``, ``trainable``, ``sam_params`` (int),
        ``trainable_share_of_sam`` (float, percent) and ``parts``: ``'child.grandchild'``
        -> dict of ``total`` and ``trainable`` (int) for each part holding parameters.
    """
    parts: Dict[str, Dict[str, int]] = OrderedDict()
    for name, child in model.named_children():
        if name == 'data_preprocessor':
            continue
        sub = {n: m for n, m in child.named_children()} or {name: child}
        for sub_name, module in sub.items():
            if count(module) == 0:
                continue
            parts[f'{name}.{sub_name}'] = dict(
                total=count(module), trainable=count(module, trainable_only=True))
    total, trainable = count(model), count(model, trainable_only=True)
    return dict(total=total, trainable=trainable, sam_params=sam_params,
                trainable_share_of_sam=100.0 * trainable / sam_params, parts=parts)
