"""Registered necks."""
from .rga import RGANeck

__all__ = ["RGANeck"]
