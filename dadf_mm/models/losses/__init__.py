"""DADF's losses, registered in mmseg's MODELS and named in configs
(``loss_decode=dict(type=...)``)."""
from .binary_dice_loss import BinaryDiceLoss

__all__ = ['BinaryDiceLoss']
