"""Soft Dice loss of a one-channel (sigmoid) forgery mask, with ignored pixels left out.

mmseg's ``DiceLoss`` one-hot encodes the labels, so on one-channel logits its target is
the *pristine* class (label 0) and pixels labelled ``ignore_index`` count as forged: it
cannot be used for a binary mask predicted by a sigmoid. This loss is the Dice loss of
the forged class::

    dice_i = (2 * sum(p * g) + smooth) / (sum(p) + sum(g) + smooth)     per image i
    loss   = loss_weight * mean_i (1 - dice_i)

with ``p = sigmoid(logit)`` and ``g`` the 0/1 label, both over the image's pixels that are
not ``ignore_index``. ``smooth`` (1 pixel) defines it on a real image (``g`` all zero),
where it pulls the mask towards empty. Unlike the pixel cross-entropy, each image
counts the same whatever the size of its forged region, so a small forgery (an eye, the
mouth) is not outweighed by the pristine pixels around it.
"""
import torch
import torch.nn as nn
from mmseg.registry import MODELS


@MODELS.register_module()
class BinaryDiceLoss(nn.Module):
    """Soft Dice loss of the forged class of one-channel mask logits.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        smooth (float): Added to numerator and denominator (in pixels). Defaults to 1.0.
        loss_name (str): Name of the loss item in the log (mmseg's convention: it starts
            with ``loss_``). Defaults to 'loss_dice'.
    """

    def __init__(self, *, loss_weight: float = 1.0, smooth: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        if smooth <= 0:
            raise ValueError(f'BinaryDiceLoss smooth must be > 0, got {smooth}')
        self.loss_weight = loss_weight
        self.smooth = smooth
        self._loss_name = loss_name

    def forward(self, logits: torch.Tensor, label: torch.Tensor, *,
                ignore_index: int = 255, **kwargs) -> torch.Tensor:
        """The loss of mask logits against labels.

        Args:
            logits (Tensor): Mask logits (B, 1, H, W) or (B, H, W).
            label (Tensor): Labels (B, H, W): 0 pristine, 1 forged, ``ignore_index``
                left out.
            ignore_index (int): The label of pixels left out. Defaults to 255.
            **kwargs: Other arguments of mmseg's losses (``weight``, ...), not used.

        Returns:
            Tensor: The loss, a 0-d tensor.
        """
        logits = logits.reshape(label.shape).float()
        valid = (label != ignore_index).float()
        prob = logits.sigmoid() * valid
        target = (label == 1).float() * valid
        dims = tuple(range(1, label.dim()))
        inter = (prob * target).sum(dims)
        dice = (2 * inter + self.smooth) / (prob.sum(dims) + target.sum(dims) + self.smooth)
        return self.loss_weight * (1 - dice).mean()

    @property
    def loss_name(self) -> str:
        """str: The name of the loss item in the log."""
        return self._loss_name
