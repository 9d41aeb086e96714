"""A detected face: an axis-aligned box, its score and, where the detector gives them,
five landmarks (eyes, nose tip, mouth corners)."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

#: five (x, y) points in frame pixels: left eye, right eye, nose tip, left and right mouth
#: corner (left and right as seen in the image)
Landmarks = Tuple[Tuple[float, float], ...]


@dataclass(frozen=True)
class FaceDetection:
    """An axis-aligned face box in pixel coordinates (x2, y2 exclusive) with a score.

    Attributes:
        x1 (float): The left edge.
        y1 (float): The top edge.
        x2 (float): The right edge (exclusive).
        y2 (float): The bottom edge (exclusive).
        score (float): The detector's confidence (the Haar detector: its neighbour count).
            Defaults to 1.0.
        landmarks (Landmarks, optional): Five (x, y) points (see :data:`Landmarks`); None
            from a detector without landmarks (Haar). Defaults to None.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    score: float = 1.0
    landmarks: Optional[Landmarks] = None

    @property
    def width(self) -> float:
        """float: ``x2 - x1``."""
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        """float: ``y2 - y1``."""
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        """float: The box's area (0 for an empty box)."""
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple:
        """tuple[float, float]: The box's centre (x, y)."""
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2


FaceDetector = Callable[[np.ndarray], List[FaceDetection]]


#: an (x1, y1, x2, y2) box
Box = Tuple[float, float, float, float]


def box_overlap(a: Box, b: Box) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes.

    Args:
        a (Box): The first box.
        b (Box): The second box.

    Returns:
        float: The IoU in [0, 1].
    """
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
