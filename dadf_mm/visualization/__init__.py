"""Pictures and log lines: the forgery visualizer (mmseg's ``VISUALIZERS``), its drawing
helpers, and a log processor that writes small losses legibly."""
from .drawing import (
    FORGED_RGB,
    NEUTRAL_RGB,
    RIGHT_RGB,
    WRONG_RGB,
    Verdict,
    draw_banner,
    layout_banner,
    tint,
    truth_parts,
)
from .forgery_visualizer import ForgeryVisualizer, tensorboard_importable, usable_backends
from .log_processor import SignificantLogProcessor, significant

__all__ = [
    'FORGED_RGB', 'NEUTRAL_RGB', 'RIGHT_RGB', 'WRONG_RGB', 'ForgeryVisualizer',
    'SignificantLogProcessor', 'Verdict', 'draw_banner', 'layout_banner', 'significant',
    'tensorboard_importable', 'tint', 'truth_parts', 'usable_backends',
]
