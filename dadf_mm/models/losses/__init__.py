"""DADF's losses, registered in mmseg's MODELS and named in configs
(``loss_decode=dict(type=...)``, ``loss_rec=dict(type=...)``)."""
from .binary_dice_loss import BinaryDiceLoss
from .reconstruction_loss import ReconstructionLoss

__all__ = ['BinaryDiceLoss', 'ReconstructionLoss']
