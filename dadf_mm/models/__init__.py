"""DADF model: backbone, neck, decode head, segmentor (registered in mmseg's MODELS)."""
from .backbones import SAMViT
from .decode_heads import SAMMaskDecoderHead
from .losses import BinaryDiceLoss
from .necks import RGANeck
from .segmentors import DADF
from .utils.parameter_report import parameter_report
from .utils.rga_fidelity import float64_twin, pearson, rga_signal_fidelity

__all__ = [
    'SAMViT', 'SAMMaskDecoderHead', 'BinaryDiceLoss', 'RGANeck', 'DADF', 'parameter_report',
    'pearson', 'rga_signal_fidelity', 'float64_twin'
]
