"""Several processes without GPUs: mmengine 0.10.7 assumes one GPU per process
(``torch.cuda.set_device`` in ``init_dist``, ``device_ids=[local_rank]`` for DDP). Here the
process group is opened with gloo first and the model is wrapped without device ids."""
from typing import List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS  # the runner looks wrappers up here
from torch import nn


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper for CPU modules (``device_ids`` must be ``None`` there).

    Args:
        module (nn.Module): The model to wrap.
        device_ids (list[int], optional): Ignored; always passed on as None. Defaults to
            None.
        **kwargs: Other arguments of ``MMDistributedDataParallel``.
    """

    def __init__(self, module: nn.Module, device_ids: Optional[List[int]] = None,
                 **kwargs) -> None:
        super().__init__(module=module, device_ids=None, **kwargs)


def prepare_cpu_distributed(cfg: Config) -> bool:
    """For ``launcher='pytorch'`` on a machine without CUDA: open the gloo process group
    from torchrun's environment and wrap the model for CPU. Returns whether it did.

    Args:
        cfg (Config): The run's config; ``model_wrapper_cfg`` and ``env_cfg.dist_cfg`` are
            set in place when it applies.

    Returns:
        bool: True when the process group was prepared for CPU, False when the config is
        not distributed or CUDA is available (mmengine's own path then applies).
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    cfg.model_wrapper_cfg = dict(type='CPUDistributedDataParallel')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    return True
