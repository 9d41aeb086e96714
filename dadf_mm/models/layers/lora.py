"""Low-rank updates of frozen linear layers (LoRA, Hu et al. 2022), the SAM+LoRA baseline."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class LoRALinear(nn.Linear):
    """``y = W x + b + (alpha / r) * B A x`` with ``W``, ``b`` frozen and ``B`` zero-initialised.

    A subclass of ``nn.Linear`` so the frozen weight keeps its name (``weight``, ``bias``)
    and SAM checkpoints load into it unchanged; the update adds ``lora_A``, ``lora_B``.
    """

    def __init__(self, in_features: int, out_features: int, *, rank: int = 4,
                 alpha: float = 4.0, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.rank = rank
        self.scaling = alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, in_features))
        self.lora_B = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)

    @classmethod
    def from_linear(cls, linear: nn.Linear, *, rank: int = 4, alpha: float = 4.0
                    ) -> 'LoRALinear':
        """A LoRA layer holding ``linear``'s parameters (shared, not copied)."""
        lora = cls(linear.in_features, linear.out_features, rank=rank, alpha=alpha,
                   bias=linear.bias is not None)
        lora.weight = linear.weight
        lora.bias = linear.bias
        lora.weight.requires_grad_(False)
        if lora.bias is not None:
            lora.bias.requires_grad_(False)
        return lora

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling
        return super().forward(x) + update
