"""Registered necks."""
from .rga import RGANeck, forward_call_inputs

__all__ = ["RGANeck", "forward_call_inputs"]
