"""Registered decode heads."""
from .sam_mask_decoder_head import SAMMaskDecoderHead

__all__ = ["SAMMaskDecoderHead"]
