"""Losses of DADF registered in mmseg's MODELS, named in configs (``loss_decode=dict(type=...)``)."""
from .binary_dice_loss import BinaryDiceLoss

__all__ = ['BinaryDiceLoss']
