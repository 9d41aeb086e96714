"""Forgery datasets, loading and packing transforms, synthetic forgeries."""
from .annotation_file import read_annotations, write_annotations
from .cross_datasets import (
    CelebDFDataset,
    DeeperForensicsDataset,
    DFDCDataset,
    DFDCPreviewDataset,
    UADFVDataset,
    WildDeepfakeDataset,
)
from .deepfakebench_dataset import DeepfakeBenchDataset
from .errors import AnnotationError, ForgeryDataError, MissingDataFileError
from .forgery_dataset import (
    DFDDataset,
    DFTIMITDataset,
    FFPPDataset,
    FMLDDataset,
    ForgeryFolderDataset,
)
from .synthetic_forgery_dataset import SyntheticForgeryDataset
from .transforms import (
    LoadForgeryAnnotations,
    LoadForgeryImage,
    PackForgeryInputs,
    SelfBlendForgery,
    self_blend,
)

__all__ = [
    'read_annotations', 'write_annotations', 'AnnotationError', 'ForgeryDataError',
    'MissingDataFileError', 'DFDDataset', 'DFTIMITDataset', 'FFPPDataset', 'FMLDDataset',
    'ForgeryFolderDataset', 'LoadForgeryAnnotations', 'LoadForgeryImage', 'PackForgeryInputs',
    'SelfBlendForgery', 'self_blend', 'SyntheticForgeryDataset', 'CelebDFDataset',
    'DFDCDataset', 'DFDCPreviewDataset', 'DeeperForensicsDataset', 'UADFVDataset',
    'WildDeepfakeDataset', 'DeepfakeBenchDataset'
]
