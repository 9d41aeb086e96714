"""A proxy test set for face detectors, built from face photographs that installed packages
ship (scikit-image's astronaut, matplotlib's Grace Hopper), each with a face box drawn by
hand: the face turned in the image plane, scaled, blurred, JPEG-compressed, darkened,
partly covered, and several faces in one 854 x 480 frame.

A face's reference box is the photograph's hand-drawn box (brow to chin, cheek to
cheek), moved and scaled with the face; a turned face keeps its own box (not the hull of
the turned one). :func:`measure_detector` scores a detector on it: a face is found when a
detection overlaps its box by IoU >= 0.4 (box conventions differ between detectors).
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from .face_detection import Box, box_overlap

#: a face is found when a detection overlaps its box at least this much
MATCH_IOU = 0.4


@dataclass(frozen=True)
class ProxyFrame:
    """One frame of the proxy set.

    Attributes:
        image (np.ndarray): The BGR frame.
        boxes (tuple[Box, ...]): The faces' reference boxes (x1, y1, x2, y2).
        condition (str): What was done to it, e.g. ``'jpeg 10'``.
        face_width (int): The (smallest) face's width in pixels.
        angle (float): How far the face is turned in the image plane, in degrees.
    """

    image: np.ndarray
    boxes: Tuple[Box, ...]
    condition: str
    face_width: int
    angle: float


def face_photos() -> List[Tuple[np.ndarray, Box]]:
    """The face photographs of installed packages, BGR, with hand-drawn face boxes.

    Returns:
        list[tuple[np.ndarray, Box]]: scikit-image's astronaut and, where matplotlib is
        installed, its Grace Hopper sample.
    """
    from skimage import data
    photos = [(np.ascontiguousarray(data.astronaut()[..., ::-1]), (182., 68., 270., 164.))]
    try:
        import matplotlib.cbook
        path = matplotlib.cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
        photos.append((cv2.imread(str(path)), (170., 140., 357., 326.)))
    except (ImportError, OSError):
        pass
    return photos


def _place(photo: np.ndarray, box: Box, width: int, angle: float, size: Tuple[int, int],
           centre: Tuple[float, float]) -> Tuple[np.ndarray, Box]:
    """``photo`` scaled so that its face is ``width`` wide, turned by ``angle`` about the
    face, with the face's centre at ``centre`` of a ``size`` (w, h) frame."""
    scale = width / (box[2] - box[0])
    scaled = cv2.resize(photo, None, fx=scale, fy=scale,
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    cx, cy = (box[0] + box[2]) / 2 * scale, (box[1] + box[3]) / 2 * scale
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[:, 2] += (centre[0] - cx, centre[1] - cy)
    frame = cv2.warpAffine(scaled, matrix, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    half_w, half_h = width / 2, (box[3] - box[1]) * scale / 2
    return frame, (centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h)


def _single(photo, box, width, angle, rng) -> Tuple[np.ndarray, Box]:
    side = int(np.clip(2.5 * width, 160, 640))
    shift = rng.uniform(-0.15, 0.15, 2) * (side - width)
    centre = (side / 2 + shift[0], side / 2 + shift[1])
    return _place(photo, box, width, angle, (side, side), centre)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def _cover(image: np.ndarray, box: Box, part: str) -> np.ndarray:
    """A flat grey patch over the lower 45% of the face (``'mouth'``) or its left 45% with
    one eye (``'eye'``)."""
    x1, y1, x2, y2 = box
    if part == 'mouth':
        x1, y1 = x1 - 0.1 * (x2 - x1), y2 - 0.45 * (y2 - y1)
        x2, y2 = x2 + 0.1 * (x2 - x1), y2 + 0.1 * (y2 - y1)
    else:
        x2 = x1 + 0.45 * (x2 - x1)
        x1, y1 = x1 - 0.1 * (x2 - x1), y1 + 0.15 * (y2 - y1)
    out = image.copy()
    cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), (70, 80, 90), -1)
    return out


#: the degradations, each applied to a frame and its face box
DEGRADATIONS: Dict[str, Callable[[np.ndarray, Box], np.ndarray]] = {
    'blur 2': lambda im, b: cv2.GaussianBlur(im, (0, 0), 2),
    'blur 4': lambda im, b: cv2.GaussianBlur(im, (0, 0), 4),
    'jpeg 30': lambda im, b: _jpeg(im, 30),
    'jpeg 10': lambda im, b: _jpeg(im, 10),
    'dark 0.3x': lambda im, b: (im.astype(np.float32) * 0.3).astype(np.uint8),
    'dark 0.3x + jpeg 20': lambda im, b: _jpeg((im.astype(np.float32) * 0.3).astype(np.uint8),
                                               20),
    'mouth covered': lambda im, b: _cover(im, b, 'mouth'),
    'eye covered': lambda im, b: _cover(im, b, 'eye'),
}


def _several_faces(photos, widths: Sequence[int], angles: Sequence[float],
                   rng) -> Tuple[np.ndarray, Tuple[Box, ...]]:
    """An 854 x 480 frame with one face per width, side by side, on a flat background."""
    frame = np.full((480, 854, 3), 110, np.uint8)
    boxes, left = [], 10
    for k, (width, angle) in enumerate(zip(widths, angles)):
        photo, box = photos[k % len(photos)]
        side = int(width * 1.8)
        tile, face = _place(photo, box, width, angle, (side, side), (side / 2, side / 2))
        top = int(rng.uniform(0, 480 - side))
        frame[top:top + side, left:left + side] = tile
        boxes.append((face[0] + left, face[1] + top, face[2] + left, face[3] + top))
        left += side + 10
    return frame, tuple(boxes)


def build_proxy_set(seed: int = 0) -> List[ProxyFrame]:
    """The proxy set: per photograph, widths 24-512 px at 0/15/30/45 degrees; each
    degradation at 64 and 128 px, 0 and 30 degrees; and frames of three faces.

    Args:
        seed (int): Seeds the faces' positions. Defaults to 0.

    Returns:
        list[ProxyFrame]: The frames (about 140).
    """
    rng = np.random.default_rng(seed)
    photos = face_photos()
    frames = []
    for photo, box in photos:
        for width in (24, 32, 48, 64, 96, 160, 256, 512):
            for angle in (0, 15, 30, 45):
                signed = angle * rng.choice((-1, 1))
                image, face = _single(photo, box, width, signed, rng)
                frames.append(ProxyFrame(image, (face,), 'clean', width, angle))
        for name, degrade in DEGRADATIONS.items():
            for width in (64, 128):
                for angle in (0, 30):
                    image, face = _single(photo, box, width, angle * rng.choice((-1, 1)), rng)
                    frames.append(ProxyFrame(degrade(image, face), (face,), name, width, angle))
    for widths, angles in (((40, 80, 140), (0, 0, 0)), ((48, 96, 160), (30, -15, 0)),
                           ((32, 64, 200), (10, 20, -30)), ((60, 120, 180), (-45, 0, 15))):
        image, boxes = _several_faces(photos, widths, angles, rng)
        frames.append(ProxyFrame(image, boxes, 'three faces', min(widths), max(map(abs, angles))))
    return frames



@dataclass
class FaceResult:
    """One reference face and how a detector did on it.

    Attributes:
        condition (str): The frame's condition.
        face_width (int): The face's frame's (smallest) face width.
        angle (float): The frame's turn, in degrees.
        iou (float): The best IoU of a detection with the face's box (0: none).
        extra (int): The frame's detections that match no face (counted on its first
            face). Defaults to 0.
    """

    condition: str
    face_width: int
    angle: float
    iou: float
    extra: int = 0

    @property
    def found(self) -> bool:
        """bool: IoU >= :data:`MATCH_IOU`."""
        return self.iou >= MATCH_IOU


def measure_detector(detector: Callable, frames: Sequence[ProxyFrame]) -> List[FaceResult]:
    """Runs ``detector`` on every frame and scores each reference face.

    Args:
        detector (Callable): ``frame_bgr -> list[FaceDetection]``.
        frames (Sequence[ProxyFrame]): :func:`build_proxy_set`'s frames.

    Returns:
        list[FaceResult]: One per reference face.
    """
    results = []
    for frame in frames:
        boxes = [(d.x1, d.y1, d.x2, d.y2) for d in detector(frame.image)]
        ious = [[box_overlap(face, det) for det in boxes] for face in frame.boxes]
        matched = sum(any(row[j] >= MATCH_IOU for row in ious) for j in range(len(boxes)))
        for k, row in enumerate(ious):
            results.append(FaceResult(frame.condition, frame.face_width, frame.angle,
                                      max(row, default=0.0),
                                      len(boxes) - matched if k == 0 else 0))
    return results


def summarize(results: Sequence[FaceResult]) -> Dict[str, float]:
    """Recall, the mean IoU of the faces found, and the unmatched detections per face.

    Args:
        results (Sequence[FaceResult]): Some of :func:`measure_detector`'s results.

    Returns:
        dict[str, float]: ``faces``, ``recall``, ``iou`` (NaN when none was found) and
        ``extra``.
    """
    found = [r.iou for r in results if r.found]
    return dict(faces=len(results), recall=len(found) / max(len(results), 1),
                iou=float(np.mean(found)) if found else float('nan'),
                extra=sum(r.extra for r in results) / max(len(results), 1))
