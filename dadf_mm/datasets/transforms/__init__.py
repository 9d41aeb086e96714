"""Transforms of forgery samples: loading images and masks, packing, self-blended forgeries,
perturbations for robustness tests."""
from .forgery_regions import REGION_KINDS, FaceLayout, forgery_region
from .formatting import PackForgeryInputs
from .image_loading import LoadForgeryImage
from .loading import LoadForgeryAnnotations
from .perturbation import PERTURBATION_LEVELS, ImagePerturbation, perturb
from .self_blend import SelfBlendForgery, SelfBlendResult, self_blend

__all__ = ['PackForgeryInputs', 'LoadForgeryImage', 'LoadForgeryAnnotations', 'SelfBlendForgery',
           'SelfBlendResult', 'self_blend', 'REGION_KINDS', 'FaceLayout', 'forgery_region',
           'ImagePerturbation', 'PERTURBATION_LEVELS', 'perturb']
