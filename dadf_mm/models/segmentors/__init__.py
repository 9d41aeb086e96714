"""Registered segmentors."""
from .dadf import DADF

__all__ = ["DADF"]
