"""Forgery datasets, loading and packing transforms, synthetic forgeries."""
from .annotation_file import read_annotations, write_annotations
from .forgery_dataset import (DFDDataset, DFTIMITDataset, FFPPDataset, FMLDDataset,
                              ForgeryFolderDataset)
from .synthetic_forgery_dataset import SyntheticForgeryDataset
from .transforms import (LoadForgeryAnnotations, PackForgeryInputs, SelfBlendForgery,
                         self_blend)

__all__ = [
    'read_annotations', 'write_annotations', 'DFDDataset', 'DFTIMITDataset', 'FFPPDataset',
    'FMLDDataset', 'ForgeryFolderDataset', 'LoadForgeryAnnotations', 'PackForgeryInputs',
    'SelfBlendForgery', 'self_blend', 'SyntheticForgeryDataset'
]
