"""Low-rank updates of frozen linear layers (LoRA, Hu et al. 2022), the SAM+LoRA baseline."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class LoRALinear(nn.Linear):
    """``y = W x + b + (alpha / r) * B A x`` with ``W``, ``b`` frozen and ``B`` zero-initialised.

    A subclass of ``nn.Linear`` so the frozen weight keeps its name (``weight``, ``bias``)
    and SAM checkpoints load into it unchanged; the update adds ``lora_A``, ``lora_B``.

    Args:
        in_features (int): Input features of the linear layer.
        out_features (int): Output features of the linear layer.
        rank (int): Rank ``r`` of the update ``B A``. Defaults to 4.
        alpha (float): Scale numerator: the update is multiplied by ``alpha / rank``.
            Defaults to 4.0.
        bias (bool): Whether the layer has a (frozen) bias. Defaults to True.
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
        """A LoRA layer holding ``linear``'s parameters (shared, not copied).

        Args:
            linear (nn.Linear): The layer whose weight and bias become the frozen part.
            rank (int): Rank of the update. Defaults to 4.
            alpha (float): Scale numerator of the update. Defaults to 4.0.

        Returns:
            LoRALinear: The layer, equal to ``linear`` until ``lora_B`` is trained.
        """
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
