import numpy as np

from dadf_mm.preprocessing.face_detector import FaceDetection
from dadf_mm.preprocessing.face_tracker import (
    FaceTracker,
    box_iou,
    link_tracks,
    main_track,
    track_faces,
)


def box(cx, cy, size, score=10.0):
    return FaceDetection(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2, score)


def jitter(values):
    return float(np.mean(np.abs(np.diff(values))))


def test_box_iou_hand_computed():
    # 10x10 boxes overlapping in a 5x10 strip: 50 / (100 + 100 - 50)
    assert box_iou(FaceDetection(0, 0, 10, 10), FaceDetection(5, 0, 15, 10)) == 50 / 150
    assert box_iou(FaceDetection(0, 0, 10, 10), FaceDetection(20, 0, 30, 10)) == 0.0


def test_tracker_smooths_jittering_boxes():
    rng = np.random.default_rng(0)
    true_x = np.linspace(100, 130, 60)  # a face drifting right by 0.5 px a frame
    noise = rng.normal(0, 4, (60, 3))
    dets = [[box(x + n[0], 120 + n[1], 80 + n[2])] for x, n in zip(true_x, noise)]
    faces = track_faces(dets)
    raw_cx = np.array([d[0].center[0] for d in dets])
    raw_size = np.array([d[0].width for d in dets])
    cx = np.array([f.center_x for f in faces])
    size = np.array([f.size for f in faces])
    assert jitter(cx) < 0.5 * jitter(raw_cx)
    assert jitter(size) < 0.4 * jitter(raw_size)
    # it still follows the face: after the start, within a few pixels of the truth
    assert np.abs(cx[10:] - true_x[10:]).mean() < 3.0


def test_tracker_holds_through_missed_detections():
    tracker = FaceTracker(center_smoothing=0.5, size_smoothing=0.5, max_missed=3)
    first = tracker.update([box(100, 100, 50)])
    assert (first.center_x, first.center_y, first.size) == (100, 100, 50)
    second = tracker.update([box(104, 100, 54)])
    assert (second.center_x, second.size) == (102, 52)  # 0.5 * 100 + 0.5 * 104
    held = tracker.update([])
    assert (held.center_x, held.center_y, held.size, held.detected) == (102, 100, 52, False)
    # a detection elsewhere (a false positive) does not move the track either
    held = tracker.update([box(300, 300, 40)])
    assert (held.center_x, held.size, held.detected) == (102, 52, False)
    back = tracker.update([box(102, 100, 52)])
    assert back.detected and (back.center_x, back.size) == (102, 52)


def test_tracker_reacquires_after_max_missed():
    tracker = FaceTracker(max_missed=2)
    tracker.update([box(100, 100, 50)])
    tracker.update([box(300, 300, 40)])
    tracker.update([box(300, 300, 40)])
    moved = tracker.update([box(300, 300, 40)])  # third frame away: take the face present
    assert (moved.center_x, moved.center_y, moved.size) == (300, 300, 40)


def test_track_faces_backfills_and_prefers_the_consistent_face():
    face = box(100, 100, 60)
    false_positive = box(200, 50, 90)  # larger, but in one frame only
    dets = [[], [], [false_positive, face], [face], [face], [face]]
    faces = track_faces(dets)
    assert all(abs(f.center_x - 100) < 1e-9 and abs(f.size - 60) < 1e-9 for f in faces)
    assert [f.detected for f in faces] == [False, False, True, True, True, True]
    assert track_faces([[], []]) == [None, None]


def test_the_person_seen_in_most_frames_is_kept_through_a_long_miss():
    """A (50 px, left) is seen in 5 of 10 frames, B (70 px, right) in 4 while A is away:
    the track stays on A, holding its box, instead of jumping to B."""
    a, b = FaceDetection(20, 20, 70, 70, 0.9), FaceDetection(200, 20, 270, 90, 0.9)
    detections = [[a] if k not in range(3, 8) else [] for k in range(10)]
    for k in range(4, 8):
        detections[k].append(b)
    tracks = link_tracks(detections)
    assert [sorted(t) for t in tracks] == [[0, 1, 2, 8, 9], [4, 5, 6, 7]]
    assert main_track(tracks) is tracks[0]
    faces = track_faces(detections)
    assert [f.detected for f in faces] == [True] * 3 + [False] * 5 + [True] * 2
    assert all((f.center_x, f.center_y, f.size) == (45, 45, 50) for f in faces)


def test_a_face_that_moved_during_a_gap_continues_its_track():
    """Less than a face's side from where it was last seen (here 40 px for 50 px, IoU
    0.11) still counts as the same person; farther starts another track."""
    near, far = FaceDetection(40, 0, 90, 50), FaceDetection(300, 0, 350, 50)
    tracks = link_tracks([[FaceDetection(0, 0, 50, 50)], [], [near], [far]])
    assert [sorted(t) for t in tracks] == [[0, 2], [3]]
