"""Following the people of a video so that their crops do not jitter.

:class:`FaceTracker` keeps one face: each frame it takes the detection that overlaps the
current track most, smooths centre and size exponentially, and holds the last box when
the detector misses. :func:`track_people` runs it over a whole clip: the clip's detections
are linked into per-person tracks (:func:`link_tracks`), the people to keep are chosen
(:func:`choose_people`, the converters' ``--faces``) and each is tracked on its own
detections only, so a track never jumps to someone else while its person is missed.
Frames without that person's face hold the box (``detected`` False), also before the
first detection.

``--faces`` (:data:`FACE_CHOICES`):

- ``frequent``: the person detected in the most frames (ties: the larger mean face, then
  the higher mean score). One-frame false detections never win.
- ``largest``: the person with the largest mean face. DeepfakeBench's preprocessing keeps
  the largest face of each frame (``max(faces, key=width * height)`` on dlib's boxes,
  frame by frame); here the comparison is per person, over the clip.
- ``all``: every person, as separate crops.

``largest`` and ``all`` consider only *people*: tracks detected in at least half as many
frames as the most frequent one, so that a false detection in a frame or two (a poster,
a pattern in the background) is not taken for a person.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .face_detection import FaceDetection, Landmarks, box_overlap

#: the ``--faces`` choices, see the module's description
FACE_CHOICES: Tuple[str, ...] = ('frequent', 'largest', 'all')


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


def _frequency_rank(track: Dict[int, FaceDetection]) -> tuple:
    faces = list(track.values())
    return (len(faces), sum(f.area for f in faces) / len(faces),
            sum(f.score for f in faces) / len(faces))


def _size_rank(track: Dict[int, FaceDetection]) -> tuple:
    count, area, score = _frequency_rank(track)
    return (area, count, score)


def choose_people(tracks: Sequence[Dict[int, FaceDetection]],
                  faces: str = 'frequent') -> List[Dict[int, FaceDetection]]:
    """The tracks a clip's crops follow, by the ``--faces`` rule (see the module).

    Args:
        tracks (Sequence[dict[int, FaceDetection]]): :func:`link_tracks`'s tracks.
        faces (str): ``'frequent'``, ``'largest'`` or ``'all'``. Defaults to 'frequent'.

    Returns:
        list[dict[int, FaceDetection]]: One track (``frequent``, ``largest``) or every
        person, the most frequent first (``all``); empty when there are no tracks.

    Raises:
        ValueError: ``faces`` is not one of :data:`FACE_CHOICES`.
    """
    if faces not in FACE_CHOICES:
        raise ValueError(f'faces must be one of {", ".join(FACE_CHOICES)}, got {faces!r}')
    by_frequency = sorted(tracks, key=_frequency_rank, reverse=True)
    if faces == 'frequent' or not by_frequency:
        return by_frequency[:1]
    most = len(by_frequency[0])
    people = [track for track in by_frequency if 2 * len(track) >= most]
    return people if faces == 'all' else [max(people, key=_size_rank)]


def main_track(tracks: Sequence[Dict[int, FaceDetection]]) -> Dict[int, FaceDetection]:
    """The person a clip is about by default (``--faces frequent``): the track seen in the
    most frames, then the one with the larger mean face area, then the higher mean score.

    Args:
        tracks (Sequence[dict[int, FaceDetection]]): :func:`link_tracks`'s tracks.

    Returns:
        dict[int, FaceDetection]: The chosen track.
    """
    return choose_people(tracks, 'frequent')[0]


def follow_person(person: Dict[int, FaceDetection], num_frames: int,
                  tracker: FaceTracker) -> List[TrackedFace]:
    """Runs ``tracker`` (reset here) over one person's detections; frames before the first
    detection take its first box.

    Args:
        person (dict[int, FaceDetection]): The person's face per frame index where seen.
        num_frames (int): The clip's frame count.
        tracker (FaceTracker): The tracker.

    Returns:
        list[TrackedFace]: One face per frame (``detected`` False where it was held).
    """
    first = min(person)
    tracker.reset(person[first])
    faces: List[Optional[TrackedFace]] = [None] * num_frames
    faces[first] = tracker.state
    for i in range(first + 1, num_frames):
        faces[i] = tracker.update([person[i]] if i in person else [])
    for i in range(first):
        faces[i] = TrackedFace(faces[first].center_x, faces[first].center_y,
                               faces[first].size, detected=False)
    return faces


def track_people(detections: Sequence[Sequence[FaceDetection]], faces: str = 'frequent',
                 tracker: Optional[FaceTracker] = None) -> List[List[TrackedFace]]:
    """Tracks the people :func:`choose_people` keeps, each on its own detections.

    Args:
        detections (Sequence[Sequence[FaceDetection]]): The faces of each frame.
        faces (str): The ``--faces`` rule. Defaults to 'frequent'.
        tracker (FaceTracker, optional): The tracker to run (reset per person); None for
            a default :class:`FaceTracker`. Defaults to None.

    Returns:
        list[list[TrackedFace]]: Per person kept, one face per frame; empty when nothing
        was ever detected.
    """
    tracker = tracker or FaceTracker()
    people = choose_people(link_tracks(detections, tracker.min_iou), faces)
    return [follow_person(person, len(detections), tracker) for person in people]


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
    people = track_people(detections, 'frequent', tracker)
    return list(people[0]) if people else [None] * len(detections)
