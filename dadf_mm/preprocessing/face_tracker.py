"""Following one face through a video so that its crops do not jitter.

:class:`FaceTracker` keeps one face: each frame it takes the detection that overlaps the
current track most, smooths centre and size exponentially, and holds the last box when
the detector misses. :func:`track_faces` runs it over a whole clip, choosing the face
that is detected most consistently and back-filling the frames before its first
detection.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

from .face_detector import FaceDetection


@dataclass(frozen=True)
class TrackedFace:
    """A square face region: centre and side in pixels; ``detected`` is False when held.

    Attributes:
        center_x (float): The centre's x.
        center_y (float): The centre's y.
        size (float): The square's side.
        detected (bool): Whether a detection updated it in this frame (False: the last
            box held). Defaults to True.
    """

    center_x: float
    center_y: float
    size: float
    detected: bool = True


def box_iou(a: FaceDetection, b: FaceDetection) -> float:
    """Intersection over union of two boxes.

    Args:
        a (FaceDetection): The first box.
        b (FaceDetection): The second box.

    Returns:
        float: The IoU in [0, 1].
    """
    iw = min(a.x2, b.x2) - max(a.x1, b.x1)
    ih = min(a.y2, b.y2) - max(a.y1, b.y1)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a.area + b.area - inter)


def _as_face(det: FaceDetection) -> TrackedFace:
    cx, cy = det.center
    return TrackedFace(cx, cy, max(det.width, det.height))


def _as_box(face: TrackedFace) -> FaceDetection:
    half = face.size / 2
    return FaceDetection(face.center_x - half, face.center_y - half, face.center_x + half,
                         face.center_y + half)


class FaceTracker:
    """Online tracker of one face.

    Args:
        center_smoothing (float): weight of the past in the exponential smoothing of the
            centre, in [0, 1) (0 = follow each detection). Defaults to 0.5.
        size_smoothing (float): the same for the face side; faces change size slower than
            they move. Defaults to 0.7.
        min_iou (float): a detection must overlap the track at least this much to update
            it. Defaults to 0.2.
        max_missed (int): after this many frames in a row without a matching detection the
            tracker takes the largest face present instead of holding. Defaults to 4.
    """

    def __init__(self,
                 *,
                 center_smoothing: float = 0.5,
                 size_smoothing: float = 0.7,
                 min_iou: float = 0.2,
                 max_missed: int = 4) -> None:
        for name, value in (('center_smoothing', center_smoothing),
                            ('size_smoothing', size_smoothing)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f'{name} must be in [0, 1), got {value}')
        self.center_smoothing = center_smoothing
        self.size_smoothing = size_smoothing
        self.min_iou = min_iou
        self.max_missed = max_missed
        self.state: Optional[TrackedFace] = None
        self.missed = 0

    def reset(self, start: Optional[FaceDetection] = None) -> None:
        """Forgets the track; with ``start`` the next frames follow that face.

        Args:
            start (FaceDetection, optional): The face to follow; None to wait for the
                next detections. Defaults to None.
        """
        self.state = _as_face(start) if start is not None else None
        self.missed = 0

    def update(self, detections: Sequence[FaceDetection]) -> Optional[TrackedFace]:
        """Takes one frame's detections; returns the smoothed face (None before the first).

        Args:
            detections (Sequence[FaceDetection]): The frame's faces (may be empty).

        Returns:
            TrackedFace | None: The track after this frame; None while no face has been
            detected yet.
        """
        if self.state is None or (self.missed >= self.max_missed and detections):
            if not detections:
                return None
            self.reset(max(detections, key=lambda d: (d.area, d.score)))
            return self.state
        track_box = _as_box(self.state)
        best = max(detections, key=lambda d: box_iou(d, track_box), default=None)
        if best is None or box_iou(best, track_box) < self.min_iou:
            self.missed += 1
            self.state = TrackedFace(self.state.center_x, self.state.center_y,
                                     self.state.size, detected=False)
            return self.state
        self.missed = 0
        measured = _as_face(best)
        a, b = self.center_smoothing, self.size_smoothing
        self.state = TrackedFace(
            a * self.state.center_x + (1 - a) * measured.center_x,
            a * self.state.center_y + (1 - a) * measured.center_y,
            b * self.state.size + (1 - b) * measured.size)
        return self.state


def _most_consistent(detections: Sequence[Sequence[FaceDetection]], first: int,
                     min_iou: float) -> FaceDetection:
    """Among the first detecting frame's faces, the one seen in most frames (then largest)."""

    def support(candidate: FaceDetection) -> tuple:
        seen = sum(any(box_iou(candidate, d) >= min_iou for d in frame) for frame in detections)
        return seen, candidate.area, candidate.score

    return max(detections[first], key=support)


def track_faces(detections: Sequence[Sequence[FaceDetection]],
                tracker: Optional[FaceTracker] = None) -> List[Optional[TrackedFace]]:
    """Runs a tracker over a clip's per-frame detections.

    The track starts from the face of the first detecting frame that recurs in most
    frames; frames before it take its first box. Returns one face per frame, or all
    ``None`` when nothing was ever detected.

    Args:
        detections (Sequence[Sequence[FaceDetection]]): The faces of each frame.
        tracker (FaceTracker, optional): The tracker to run (reset here); None for a
            default :class:`FaceTracker`. Defaults to None.

    Returns:
        list[TrackedFace | None]: One face per frame.
    """
    tracker = tracker or FaceTracker()
    first = next((i for i, frame in enumerate(detections) if frame), None)
    if first is None:
        return [None] * len(detections)
    tracker.reset(_most_consistent(detections, first, tracker.min_iou))
    faces: List[Optional[TrackedFace]] = [None] * len(detections)
    faces[first] = tracker.state
    for i in range(first + 1, len(detections)):
        faces[i] = tracker.update(detections[i])
    for i in range(first):
        faces[i] = TrackedFace(faces[first].center_x, faces[first].center_y,
                               faces[first].size, detected=False)
    return faces
