"""Following one person through a video so that its crops do not jitter.

:class:`FaceTracker` keeps one face: each frame it takes the detection that overlaps the
current track most, smooths centre and size exponentially, and holds the last box when
the detector misses. :func:`track_faces` runs it over a whole clip and keeps one person
throughout: the clip's detections are linked into per-person tracks (:func:`link_tracks`),
the person is the track detected in the most frames (ties: the larger mean face), and
only that person's detections reach the tracker, so it never jumps to someone else while
its person is missed. Frames without that person's face hold the box (``detected``
False), also before the first detection.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from .face_detection import FaceDetection, Landmarks, box_overlap


@dataclass(frozen=True)
class TrackedFace:
    """A square face region: centre and side in pixels; ``detected`` is False when held.

    Attributes:
        center_x (float): The centre's x.
        center_y (float): The centre's y.
        size (float): The square's side.
        detected (bool): Whether a detection updated it in this frame (False: the last
            box held). Defaults to True.
        landmarks (Landmarks, optional): The matched detection's five points (not
            smoothed); None when held or when the detector gives none. Defaults to None.
    """

    center_x: float
    center_y: float
    size: float
    detected: bool = True
    landmarks: Optional[Landmarks] = None


def box_iou(a: FaceDetection, b: FaceDetection) -> float:
    """Intersection over union of two boxes.

    Args:
        a (FaceDetection): The first box.
        b (FaceDetection): The second box.

    Returns:
        float: The IoU in [0, 1].
    """
    return box_overlap((a.x1, a.y1, a.x2, a.y2), (b.x1, b.y1, b.x2, b.y2))


def _as_face(det: FaceDetection) -> TrackedFace:
    cx, cy = det.center
    return TrackedFace(cx, cy, max(det.width, det.height), landmarks=det.landmarks)


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
            b * self.state.size + (1 - b) * measured.size, landmarks=best.landmarks)
        return self.state


def _same_person(last: FaceDetection, det: FaceDetection, min_iou: float) -> bool:
    """Whether ``det`` continues a track last seen at ``last``: they overlap, or the centre
    moved less than the face's side (a fast move, or a gap of several frames)."""
    if box_iou(last, det) >= min_iou:
        return True
    (ax, ay), (bx, by) = last.center, det.center
    side = max(last.width, last.height, det.width, det.height)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 < side


def link_tracks(detections: Sequence[Sequence[FaceDetection]],
                min_iou: float = 0.2) -> List[Dict[int, FaceDetection]]:
    """Links a clip's detections into per-person tracks, frame by frame: each detection
    (best score first) continues the track whose last face it matches best (see
    :func:`_same_person`), at most one per track and frame, else starts a new track.

    Args:
        detections (Sequence[Sequence[FaceDetection]]): The faces of each frame.
        min_iou (float): The overlap that links two boxes at once. Defaults to 0.2.

    Returns:
        list[dict[int, FaceDetection]]: Each track's face per frame index where seen.
    """
    tracks: List[Dict[int, FaceDetection]] = []
    for index, frame in enumerate(detections):
        taken = set()
        for det in sorted(frame, key=lambda d: -d.score):
            candidates = [k for k, track in enumerate(tracks) if k not in taken
                          and _same_person(track[max(track)], det, min_iou)]
            if candidates:
                best = max(candidates, key=lambda k: box_iou(tracks[k][max(tracks[k])], det))
                tracks[best][index] = det
                taken.add(best)
            else:
                tracks.append({index: det})
                taken.add(len(tracks) - 1)
    return tracks


def main_track(tracks: Sequence[Dict[int, FaceDetection]]) -> Dict[int, FaceDetection]:
    """The person a clip is about: the track seen in the most frames, then the one with
    the larger mean face area, then the higher mean score.

    Args:
        tracks (Sequence[dict[int, FaceDetection]]): :func:`link_tracks`'s tracks.

    Returns:
        dict[int, FaceDetection]: The chosen track.
    """

    def rank(track: Dict[int, FaceDetection]) -> tuple:
        faces = list(track.values())
        return (len(faces), sum(f.area for f in faces) / len(faces),
                sum(f.score for f in faces) / len(faces))

    return max(tracks, key=rank)


def track_faces(detections: Sequence[Sequence[FaceDetection]],
                tracker: Optional[FaceTracker] = None) -> List[Optional[TrackedFace]]:
    """Runs a tracker over one person's detections in a clip (the person of
    :func:`main_track`); frames before the first detection take its first box. Returns one
    face per frame (``detected`` False where the person's face was not found), or all
    ``None`` when nothing was ever detected.

    Args:
        detections (Sequence[Sequence[FaceDetection]]): The faces of each frame.
        tracker (FaceTracker, optional): The tracker to run (reset here); None for a
            default :class:`FaceTracker`. Defaults to None.

    Returns:
        list[TrackedFace | None]: One face per frame.
    """
    tracker = tracker or FaceTracker()
    tracks = link_tracks(detections, tracker.min_iou)
    if not tracks:
        return [None] * len(detections)
    person = main_track(tracks)
    first = min(person)
    tracker.reset(person[first])
    faces: List[Optional[TrackedFace]] = [None] * len(detections)
    faces[first] = tracker.state
    for i in range(first + 1, len(detections)):
        faces[i] = tracker.update([person[i]] if i in person else [])
    for i in range(first):
        faces[i] = TrackedFace(faces[first].center_x, faces[first].center_y,
                               faces[first].size, detected=False)
    return faces
