"""Where a synthetic forgery goes: face parts, one side of the face, blobs anywhere.

A detector that only has to say *whether* a face is forged can draw the same mask on
every fake and score well if every forgery covers the middle of the face. Forged regions
of varied place, size and shape make the mask carry information:

- ``'face'``: most of the face (an ellipse or convex hull near the face's centre), the
  whole-face swap;
- ``'mouth'``, ``'nose'``: that part alone;
- ``'eyes'``: one eye, or a band over both;
- ``'half'``: the left or the right side of the face;
- ``'blob'``: an ellipse or convex hull of random size (14-40 % of the side across)
  anywhere on the image;
- ``'multi'``: two or three of ``'mouth'``, ``'eyes'``, ``'nose'`` and ``'blob'``.

The parts are placed by a :class:`FaceLayout`, the positions (fractions of the width
and height) of the eyes, nose and mouth in the image. Without one (a photo that is not
an aligned face crop) the part kinds fall back to ``'blob'`` and ``'face'`` is centred.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

REGION_KINDS = ('face', 'mouth', 'eyes', 'nose', 'half', 'blob', 'multi')
#: the kinds a region of ``'multi'`` is made of
MULTI_PARTS = ('mouth', 'eyes', 'nose', 'blob')

Point = Tuple[float, float]


@dataclass(frozen=True)
class FaceLayout:
    """Positions of the face's parts, (x, y) as fractions of the image's width and height.

    Attributes:
        left_eye (tuple[float, float]): The eye on the image's left.
        right_eye (tuple[float, float]): The eye on the image's right.
        nose (tuple[float, float]): The tip of the nose.
        mouth (tuple[float, float]): The centre of the mouth.
        face_center (tuple[float, float]): The centre of the face.
        face_axes (tuple[float, float]): Half width and half height of the face.
    """

    left_eye: Point
    right_eye: Point
    nose: Point
    mouth: Point
    face_center: Point
    face_axes: Point

    def flipped(self) -> 'FaceLayout':
        """The layout of the horizontally flipped image.

        Returns:
            FaceLayout: x becomes 1 - x; the eyes swap sides.
        """
        def mirror(point: Point) -> Point:
            return (1.0 - point[0], point[1])

        return FaceLayout(left_eye=mirror(self.right_eye), right_eye=mirror(self.left_eye),
                          nose=mirror(self.nose), mouth=mirror(self.mouth),
                          face_center=mirror(self.face_center), face_axes=self.face_axes)


#: the aligned face crops of scikit-image's ``lfw_subset`` (measured on its 100 faces)
LFW_LAYOUT = FaceLayout(left_eye=(0.30, 0.35), right_eye=(0.62, 0.35), nose=(0.46, 0.58),
                        mouth=(0.46, 0.80), face_center=(0.46, 0.56), face_axes=(0.36, 0.44))


def _ellipse(region: np.ndarray, center: Point, axes: Point, angle: float) -> None:
    """Fills an ellipse (centre and half axes in pixels) into ``region``."""
    cv2.ellipse(region, (int(round(center[0])), int(round(center[1]))),
                (max(int(round(axes[0])), 1), max(int(round(axes[1])), 1)), angle, 0, 360, 1.0,
                thickness=-1)


def _hull(region: np.ndarray, center: Point, radius: float, rng: np.random.Generator) -> None:
    """Fills the convex hull of 8-16 random points around ``center`` into ``region``."""
    n = int(rng.integers(8, 17))
    angles = rng.uniform(0, 2 * np.pi, n)
    radii = rng.uniform(0.45, 1.0, n) * radius
    points = np.stack([center[0] + radii * np.cos(angles), center[1] + radii * np.sin(angles)], 1)
    cv2.fillConvexPoly(region, cv2.convexHull(np.round(points).astype(np.int32)), 1.0)


def _face(region: np.ndarray, center: Point, side: float, rng: np.random.Generator) -> None:
    cx = center[0] + rng.uniform(-0.06, 0.06) * side
    cy = center[1] + rng.uniform(-0.06, 0.06) * side
    if rng.random() < 0.5:
        _ellipse(region, (cx, cy), (rng.uniform(0.2, 0.35) * side, rng.uniform(0.25, 0.4) * side),
                 float(rng.uniform(-30, 30)))
    else:
        _hull(region, (cx, cy), rng.uniform(0.3, 0.4) * side, rng)


def _blob(region: np.ndarray, rng: np.random.Generator) -> None:
    h, w = region.shape
    side = min(h, w)
    radius = rng.uniform(0.07, 0.2) * side
    center = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h)
    if rng.random() < 0.5:
        aspect = rng.uniform(0.6, 1.0)
        _ellipse(region, center, (radius, radius * aspect), float(rng.uniform(0, 180)))
    else:
        _hull(region, center, radius * 1.2, rng)


def _part(region: np.ndarray, kind: str, layout: FaceLayout, rng: np.random.Generator) -> None:
    h, w = region.shape
    side = min(h, w)

    def at(point: Point) -> Point:  # the part's place, shifted by up to 3 % of the side
        return (point[0] * w + rng.uniform(-0.03, 0.03) * side,
                point[1] * h + rng.uniform(-0.03, 0.03) * side)

    tilt = float(rng.uniform(-12, 12))
    if kind == 'mouth':
        _ellipse(region, at(layout.mouth),
                 (rng.uniform(0.14, 0.22) * side, rng.uniform(0.07, 0.11) * side), tilt)
    elif kind == 'nose':
        _ellipse(region, at(layout.nose),
                 (rng.uniform(0.08, 0.12) * side, rng.uniform(0.12, 0.18) * side), tilt)
    elif kind == 'eyes' and rng.random() < 0.5:  # a band over both eyes
        middle = tuple((a + b) / 2 for a, b in zip(layout.left_eye, layout.right_eye))
        _ellipse(region, at(middle),
                 (rng.uniform(0.28, 0.36) * side, rng.uniform(0.08, 0.12) * side), tilt)
    elif kind == 'eyes':  # one eye
        eye = layout.left_eye if rng.random() < 0.5 else layout.right_eye
        _ellipse(region, at(eye),
                 (rng.uniform(0.1, 0.14) * side, rng.uniform(0.07, 0.1) * side), tilt)
    elif kind == 'half':
        face = np.zeros_like(region)
        center = at(layout.face_center)
        _ellipse(face, center, (layout.face_axes[0] * w * rng.uniform(0.85, 1.05),
                                layout.face_axes[1] * h * rng.uniform(0.85, 1.05)), tilt / 2)
        columns = np.arange(w)[None, :]
        side_of = columns < center[0] if rng.random() < 0.5 else columns >= center[0]
        region[...] = np.maximum(region, face * side_of)
    else:
        raise ValueError(f'unknown face part {kind!r}')


def forgery_region(shape: Tuple[int, int], rng: np.random.Generator, kind: str = 'face',
                   layout: Optional[FaceLayout] = None) -> np.ndarray:
    """The region (float32 0/1) a forgery of ``kind`` (:data:`REGION_KINDS`) replaces.

    Args:
        shape (tuple[int, int]): The image's (H, W).
        rng (np.random.Generator): The source of randomness.
        kind (str): One of :data:`REGION_KINDS`. Defaults to 'face'.
        layout (FaceLayout, optional): Where the face's parts are; None for an image
            without a known layout (face parts become blobs, ``'face'`` is centred).
            Defaults to None.

    Returns:
        np.ndarray: The region (H, W), float32 0/1, never empty.
    """
    if kind not in REGION_KINDS:
        raise ValueError(f'region kind must be one of {REGION_KINDS}, got {kind!r}')
    h, w = shape
    region = np.zeros((h, w), dtype=np.float32)
    if kind == 'face':
        center = (w / 2, h / 2) if layout is None else \
            (layout.face_center[0] * w, layout.face_center[1] * h)
        _face(region, center, min(h, w), rng)
    elif kind == 'multi':
        for part in rng.choice(MULTI_PARTS, size=int(rng.integers(2, 4)), replace=False):
            region = np.maximum(region, forgery_region(shape, rng, str(part), layout))
    elif kind == 'blob' or layout is None:
        _blob(region, rng)
    else:
        _part(region, kind, layout, rng)
    if not region.any():  # a part pushed off a tiny image: one pixel at the centre
        region[h // 2, w // 2] = 1.0
    return region


def check_region_kinds(kinds: Sequence[str], owner: str) -> Tuple[str, ...]:
    """``kinds`` as a tuple, or one error naming ``owner`` and the known kinds.

    Args:
        kinds (Sequence[str]): The region kinds asked for.
        owner (str): Who asks (for the message), e.g. ``'SyntheticForgeryDataset regions'``.

    Returns:
        tuple[str, ...]: The kinds.
    """
    kinds = (kinds, ) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in REGION_KINDS]
    if unknown or not kinds:
        raise ValueError(f'{owner} {list(kinds)}: choose one or more of {REGION_KINDS}')
    return kinds
