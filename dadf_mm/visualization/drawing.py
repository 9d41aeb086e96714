"""Pictures of a forgery prediction: the forged region tinted red and a banner with the
fake score, the decision and, when the truth is known, the truth and whether the
prediction is right.

Everything here works on RGB uint8 arrays (mmseg's visualizers draw in RGB); callers with
BGR images (OpenCV) flip the channels around the call.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

#: tint of forged pixels (RGB)
FORGED_RGB = (255, 0, 0)
#: banner of a prediction that matches the truth (RGB)
RIGHT_RGB = (0, 140, 0)
#: banner of a prediction that contradicts the truth (RGB)
WRONG_RGB = (200, 0, 0)
#: banner when there is nothing to compare with (no truth), and of the truth panel (RGB)
NEUTRAL_RGB = (64, 64, 64)
#: banner text (RGB)
TEXT_RGB = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: the smallest font scale a banner line is drawn at before its parts go on separate lines
MIN_ONE_LINE_SCALE = 0.4


@dataclass(frozen=True)
class Verdict:
    """A fake score against a threshold, and the truth when it is known.

    Args:
        score (float | None): the fake probability (``None``: the model gave no score).
        threshold (float): a face is judged fake when ``score > threshold``. Defaults to
            0.5.
        truth (int | None): 1 fake, 0 real, ``None`` unknown. Defaults to None.
    """

    score: Optional[float]
    threshold: float = 0.5
    truth: Optional[int] = None

    @property
    def is_fake(self) -> Optional[bool]:
        """bool | None: the decision, ``score > threshold`` (None without a score)."""
        return None if self.score is None else bool(self.score > self.threshold)

    @property
    def correct(self) -> Optional[bool]:
        """bool | None: whether the decision matches the truth (``None`` if either is
        unknown)."""
        if self.truth is None or self.is_fake is None:
            return None
        return self.is_fake == bool(self.truth)

    def parts(self) -> List[str]:
        """The banner's text.

        Returns:
            list[str]: e.g. ``['FAKE 0.91', 'truth: real', 'WRONG']``.
        """
        parts = ['no score' if self.score is None else
                 f'{"FAKE" if self.is_fake else "real"} {self.score:.2f}']
        if self.truth is not None:
            parts.append(f'truth: {"fake" if self.truth else "real"}')
            if self.correct is not None:
                parts.append('RIGHT' if self.correct else 'WRONG')
        return parts

    def colour(self) -> Tuple[int, int, int]:
        """The banner's colour.

        Returns:
            tuple[int, int, int]: green when right, red when wrong, grey when there is no
            truth (RGB).
        """
        if self.correct is None:
            return NEUTRAL_RGB
        return RIGHT_RGB if self.correct else WRONG_RGB


def truth_parts(truth: int, mask_known: bool = True) -> List[str]:
    """The truth panel's banner text.

    Args:
        truth (int): 1 fake, 0 real.
        mask_known (bool): whether a fake's forged pixels are known. Defaults to True.

    Returns:
        list[str]: ``['truth: FAKE']``, ``['truth: real']``, or for a fake whose mask is
        unknown ``['truth: FAKE', 'mask unknown']``.
    """
    parts = [f'truth: {"FAKE" if truth else "real"}']
    if truth and not mask_known:
        parts.append('mask unknown')
    return parts


@dataclass(frozen=True)
class BannerLayout:
    """Where a banner's text goes.

    Attributes:
        lines (list[str]): the text lines, top to bottom.
        scale (float): OpenCV's font scale.
        thickness (int): the strokes' thickness in pixels.
        line_height (int): pixels per line.
        height (int): the strip's height in pixels.
    """

    lines: List[str]
    scale: float
    thickness: int
    line_height: int
    height: int


def _fit_scale(text: str, width: int, max_scale: float) -> float:
    (text_width, _), _ = cv2.getTextSize(text, FONT, 1.0, 1)
    return min(max_scale, (width - 12) / max(text_width, 1))  # a margin either side


def layout_banner(width: int, parts: Sequence[str]) -> BannerLayout:
    """Lay ``parts`` out on a banner ``width`` pixels wide: one line ``' | '``-joined
    when it fits at font scale >= :data:`MIN_ONE_LINE_SCALE`, else one part a line.

    Args:
        width (int): the banner's width in pixels.
        parts (Sequence[str]): the texts, in reading order.

    Returns:
        BannerLayout: lines, font scale and thickness, line and banner height.
    """
    max_scale = max(MIN_ONE_LINE_SCALE, min(1.2, width / 320))
    lines = [' | '.join(parts)]
    scale = _fit_scale(lines[0], width, max_scale)
    if scale < MIN_ONE_LINE_SCALE and len(parts) > 1:
        lines = list(parts)
        scale = min(_fit_scale(line, width, max_scale) for line in lines)
    scale = max(scale, 0.25)
    thickness = max(1, int(round(scale * 1.5)))
    (_, text_height), baseline = cv2.getTextSize('Ag', FONT, scale, thickness)
    line_height = text_height + baseline + max(2, int(4 * scale))
    return BannerLayout(lines=lines, scale=scale, thickness=thickness,
                        line_height=line_height, height=line_height * len(lines) + 4)


def draw_banner(canvas: np.ndarray, layout: BannerLayout, colour: Sequence[int],
                height: Optional[int] = None) -> np.ndarray:
    """Fill the top ``height`` rows of ``canvas`` (in place) with ``colour`` and write the
    layout's lines on it in white.

    Args:
        canvas (np.ndarray): H x W x 3 uint8, in the colour order of ``colour``.
        layout (BannerLayout): from :func:`layout_banner` for this width.
        colour (Sequence[int]): the banner's background.
        height (int, optional): the strip's height (a larger one than ``layout.height``
            aligns the banners of side-by-side panels). Defaults to None
            (``layout.height``).

    Returns:
        np.ndarray: ``canvas``.
    """
    height = layout.height if height is None else height
    canvas[:height] = colour
    for i, line in enumerate(layout.lines):
        (_, text_height), _ = cv2.getTextSize(line, FONT, layout.scale, layout.thickness)
        y = 2 + i * layout.line_height + text_height + max(1, int(2 * layout.scale))
        cv2.putText(canvas, line, (4, y), FONT, layout.scale, TEXT_RGB, layout.thickness,
                    cv2.LINE_AA)
    return canvas


def tint(image: np.ndarray, mask: np.ndarray, alpha: float = 0.5,
         colour: Sequence[int] = FORGED_RGB) -> np.ndarray:
    """``image`` with the pixels where ``mask == 1`` blended towards ``colour``:
    ``round((1 - alpha) * pixel + alpha * colour)``; other pixels unchanged.

    Args:
        image (np.ndarray): H x W x 3 uint8.
        mask (np.ndarray): H x W; 1 marks forged pixels (255, ignored, is not drawn).
        alpha (float): the tint's opacity. Defaults to 0.5.
        colour (Sequence[int]): the tint, in the image's colour order. Defaults to
            :data:`FORGED_RGB`.

    Returns:
        np.ndarray: a new H x W x 3 uint8 image.
    """
    if mask.shape[:2] != image.shape[:2]:
        raise ValueError(f'mask is {mask.shape[1]}x{mask.shape[0]} (WxH) but the image is '
                         f'{image.shape[1]}x{image.shape[0]}; resize the mask first')
    out = image.copy()
    forged = mask == 1
    blended = (1 - alpha) * image[forged].astype(np.float32) + alpha * np.float32(colour)
    out[forged] = np.floor(blended + 0.5).astype(np.uint8)
    return out


def upscale(image: np.ndarray, masks: Sequence[Optional[np.ndarray]], min_size: int
            ) -> Tuple[np.ndarray, List[Optional[np.ndarray]]]:
    """Enlarge a small picture by an integer factor (nearest neighbour, so each pixel
    becomes a block) until its shorter side is at least ``min_size``, so its banner text
    stays legible; ``masks`` follow. Larger pictures are returned as they are.

    Args:
        image (np.ndarray): H x W x 3.
        masks (Sequence[np.ndarray | None]): H x W masks (None entries stay None).
        min_size (int): the shorter side to reach.

    Returns:
        tuple[np.ndarray, list]: the picture and the masks, enlarged alike.
    """
    factor = max(1, math.ceil(min_size / max(1, min(image.shape[:2]))))
    if factor == 1:
        return image, list(masks)

    def grow(a: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)

    return grow(image), [None if m is None else grow(m) for m in masks]
