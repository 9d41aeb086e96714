"""Transforms of forgery samples: loading masks, packing, self-blended forgeries."""
from .formatting import PackForgeryInputs
from .loading import LoadForgeryAnnotations
from .self_blend import SelfBlendForgery, SelfBlendResult, self_blend

__all__ = ['PackForgeryInputs', 'LoadForgeryAnnotations', 'SelfBlendForgery', 'SelfBlendResult',
           'self_blend']
