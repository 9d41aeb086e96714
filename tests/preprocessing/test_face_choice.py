"""``--faces``: which people of a video are cropped (frequent, largest, all)."""
import json

import cv2
import pytest

from dadf_mm.preprocessing.conversion_runner import video_records
from dadf_mm.preprocessing.face_detector import FaceDetection, build_face_detector
from dadf_mm.preprocessing.face_tracker import choose_people, link_tracks, track_people
from dadf_mm.preprocessing.video_conversion import (
    ConversionOptions,
    VideoJob,
    completion,
    convert_video,
)
from tests.helpers.two_people import HIDDEN, side, write_two_people_video


def box(cx, cy, size, score=0.9):
    return FaceDetection(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2, score)


# small (40 px, left) in all 8 frames; large (90 px, right) in 6; a 120 px false
# detection in one frame: frequent -> small, largest -> large (not the false one)
SMALL, LARGE, FALSE = box(40, 40, 40), box(200, 60, 90), box(120, 200, 120)
DETECTIONS = [[SMALL] + ([LARGE] if k >= 2 else []) + ([FALSE] if k == 5 else [])
              for k in range(8)]


def crop_side(frame):
    """Which face a video.json frame's crop (box = x1, y1, side) is centred on."""
    x1, _, width = frame['box']
    return side(x1 + width / 2)


def centres(people):
    return [{(round(f.center_x), round(f.center_y)) for f in faces if f.detected}
            for faces in people]


@pytest.mark.parametrize('faces, expected', [
    ('frequent', [{(40, 40)}]),
    ('largest', [{(200, 60)}]),
    ('all', [{(40, 40)}, {(200, 60)}]),
])
def test_each_choice_keeps_the_expected_people(faces, expected):
    people = track_people(DETECTIONS, faces)
    assert centres(people) == expected
    assert all(len(person) == len(DETECTIONS) for person in people)


def test_largest_and_all_leave_out_tracks_seen_in_under_half_the_frames():
    tracks = link_tracks(DETECTIONS)
    assert sorted(len(t) for t in tracks) == [1, 6, 8]  # the false one is a track
    assert [len(t) for t in choose_people(tracks, 'all')] == [8, 6]
    with pytest.raises(ValueError, match='faces must be one of frequent, largest, all'):
        choose_people(tracks, 'biggest')
    assert track_people([[], []], 'all') == []


@pytest.fixture(scope='module')
def two_people(tmp_path_factory):
    root = tmp_path_factory.mktemp('two_people')
    video = write_two_people_video(root / 'two.mp4')
    job = VideoJob(str(video), 'DFDC', 'two', 1, 'test')
    return root, job, build_face_detector('centerface')


def convert(root, job, detector, faces):
    options = ConversionOptions(num_frames=4, faces=faces)
    result = convert_video(job, str(root / 'out'), options, detector)
    assert result.status == 'done', result.reason
    folder = root / 'out' / 'test' / 'DFDC' / 'two'
    return result, json.loads((folder / 'video.json').read_text()), folder


def test_a_two_person_video_with_each_choice(two_people):
    """The small face is seen in every frame, the large one from frame 3 on (3 of the 4
    sampled frames 1, 4, 7, 10): frequent keeps the small, largest the large, all both,
    and a rerun with another choice redoes the video."""
    root, job, detector = two_people
    result, meta, folder = convert(root, job, detector, 'frequent')
    assert [f['frame'] for f in meta['frames']] == [1, 4, 7, 10]
    assert {crop_side(f) for f in meta['frames']} == {'small'}
    assert all(f['detected'] for f in meta['frames']) and result.extra['held_frames'] == 0

    options = ConversionOptions(num_frames=4, faces='largest')
    assert completion(job, str(root / 'out'), options) == (
        "converted with other options: faces 'frequent' -> 'largest'")
    result, meta, folder = convert(root, job, detector, 'largest')
    assert result.extra['redone'].endswith("faces 'frequent' -> 'largest'")
    assert {crop_side(f) for f in meta['frames']} == {'large'}
    assert [f['detected'] for f in meta['frames']] == [False, True, True, True]
    assert result.extra['frames_without_face'] == [1] and HIDDEN == 3
    assert sorted(p.name for p in (folder / 'images').iterdir()) == [
        '0001.png', '0004.png', '0007.png', '0010.png']

    result, meta, folder = convert(root, job, detector, 'all')
    names = sorted(p.name for p in (folder / 'images').iterdir())
    assert names == [f'{n:04d}_p{k}.png' for n in (1, 4, 7, 10) for k in (0, 1)]
    assert result.frames == 8
    people = {f['person']: crop_side(f) for f in meta['frames']}
    assert people == {0: 'small', 1: 'large'}  # the most frequent first
    crop = cv2.imread(str(folder / 'images' / '0007_p1.png'))
    assert crop.shape[0] > cv2.imread(str(folder / 'images' / '0007_p0.png')).shape[0]
    records = video_records(job, str(root / 'out'))
    assert [(r['frame'], r['person'], r['video_id'], r['label']) for r in records] == [
        (n, k, 'two', 1) for n in (1, 4, 7, 10) for k in (0, 1)]
    assert records[1]['img_path'] == 'test/DFDC/two/images/0001_p1.png'


def test_video_json_without_faces_reads_as_frequent(two_people):
    """A video converted before the option existed is complete for --faces frequent only."""
    root, job, detector = two_people
    out = root / 'old'
    options = ConversionOptions(num_frames=4)
    assert convert_video(job, str(out), options, detector).status == 'done'
    path = out / 'test' / 'DFDC' / 'two' / 'video.json'
    meta = json.loads(path.read_text())
    del meta['options']['faces']
    for frame in meta['frames']:
        del frame['person']
    path.write_text(json.dumps(meta))
    assert completion(job, str(out), options) is None
    assert 'person' not in video_records(job, str(out))[0]
    assert completion(job, str(out), ConversionOptions(num_frames=4, faces='all')) == (
        "converted with other options: faces 'frequent' -> 'all'")
