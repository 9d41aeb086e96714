"""Transforms of forgery samples: loading images and masks, packing, self-blended forgeries."""
from .formatting import PackForgeryInputs
from .image_loading import LoadForgeryImage
from .loading import LoadForgeryAnnotations
from .self_blend import SelfBlendForgery, SelfBlendResult, self_blend

__all__ = ['PackForgeryInputs', 'LoadForgeryImage', 'LoadForgeryAnnotations', 'SelfBlendForgery',
           'SelfBlendResult', 'self_blend']
