"""The dataset converters on small trees in the official layouts, written here."""
import importlib.util
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters'
FRAMES, SIZE = 12, 160
PATCH = (slice(95, 125), slice(45, 75))  # rows, columns of the forged region in a frame
GREEN = (0, 255, 0)


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'converter_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def face_frame(k):
    """Frame k: the astronaut's face (about 80 px wide), drifting a little each frame."""
    astronaut = data.astronaut()[..., ::-1]
    x0, y0 = 124 + 2 * k, 15 + k
    return cv2.resize(astronaut[y0:y0 + 200, x0:x0 + 200], (SIZE, SIZE),
                      interpolation=cv2.INTER_AREA)


def write_video(path, frames, fourcc='mp4v'):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (SIZE, SIZE))
    assert writer.isOpened(), f'OpenCV cannot write {fourcc} videos'
    for frame in frames:
        writer.write(np.ascontiguousarray(frame))
    writer.release()


def real_frames(n=FRAMES):
    return [face_frame(k) for k in range(n)]


def fake_frames(n=FRAMES):
    frames = real_frames(n)
    for frame in frames:
        frame[PATCH] = GREEN
    return frames


def mask_frames(n=FRAMES):
    frames = [np.zeros((SIZE, SIZE, 3), np.uint8) for _ in range(n)]
    for frame in frames:
        frame[PATCH] = 255
    return frames


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def split_pairs(split):
    from dadf_mm.datasets.ffpp_splits import ffpp_split_pairs
    return ffpp_split_pairs(split)


@pytest.fixture(scope='module')
def ffpp_tree(tmp_path_factory):
    """FF++ layout, c23, Deepfakes: good, faceless, unreadable and mismatched videos."""
    root = tmp_path_factory.mktemp('ffpp')
    (t, s), (tt, ts) = split_pairs('train')[0], split_pairs('test')[0]
    real = root / 'original_sequences' / 'youtube' / 'c23' / 'videos'
    fake = root / 'manipulated_sequences' / 'Deepfakes' / 'c23' / 'videos'
    masks = root / 'manipulated_sequences' / 'Deepfakes' / 'masks' / 'videos'
    write_video(real / f'{t}.mp4', real_frames())
    write_video(real / f'{s}.mp4', [np.full((SIZE, SIZE, 3), 90, np.uint8)] * FRAMES)  # no face
    write_video(real / f'{tt}.mp4', real_frames())
    (real / f'{ts}.mp4').write_bytes(os.urandom(3000))  # unreadable
    write_video(fake / f'{t}_{s}.mp4', fake_frames())
    write_video(masks / f'{t}_{s}.mp4', mask_frames())
    write_video(fake / f'{s}_{t}.mp4', fake_frames())
    write_video(masks / f'{s}_{t}.mp4', mask_frames(FRAMES - 2))  # frame-count mismatch
    return root, dict(real=t, faceless=s, test_real=tt, unreadable=ts, fake=f'{t}_{s}',
                      mismatched=f'{s}_{t}')


@pytest.fixture(scope='module')
def ffpp_run(ffpp_tree, tmp_path_factory):
    root, ids = ffpp_tree
    out = tmp_path_factory.mktemp('ffpp_out')
    stale = out / 'c23' / 'Deepfakes' / f'.{ids["fake"]}.partial'
    stale.mkdir(parents=True)  # what an interrupted run leaves behind
    (stale / '0001.png').write_bytes(b'half written')
    argv = [str(root), str(out), '--methods', 'Deepfakes', '--compression', 'c23',
            '--splits', 'train', 'test', '--num-frames', '4']
    report = load_tool('ffpp').main(argv)['c23']
    return out, ids, report, argv


def test_ffpp_report_counts_and_reasons(ffpp_run):
    out, ids, report, _ = ffpp_run
    assert (report['done'], report['skipped'], report['failed']) == (3, 0, 3)
    reasons = {f['video_id']: f['reason'] for f in report['failures']}
    assert reasons[ids['faceless']].startswith('no face found')
    assert reasons[ids['unreadable']].startswith('unreadable video')
    assert reasons[ids['mismatched']].startswith('mask/video frame-count mismatch')
    assert f'{FRAMES} frames' in reasons[ids['mismatched']]
    listed = sum(2 * len(split_pairs(s)) * 2 for s in ('train', 'test'))  # real + Deepfakes
    assert report['not_in_download'] == listed - 6  # 4 real and 2 fake videos exist
    saved = json.loads((out / 'reports' / 'ffpp_c23.json').read_text())
    assert (saved['done'], saved['failed']) == (3, 3)


def test_ffpp_frames_crops_and_masks(ffpp_run):
    out, ids, _, _ = ffpp_run
    real_dir = out / 'c23' / 'original' / ids['real']
    fake_dir = out / 'c23' / 'Deepfakes' / ids['fake']
    assert not (out / 'c23' / 'Deepfakes' / f'.{ids["fake"]}.partial').exists()
    names = ['0001.png', '0004.png', '0007.png', '0010.png']  # 4 of 12: centres of 4 segments
    assert sorted(os.listdir(real_dir / 'images')) == names
    assert not (real_dir / 'masks').exists()
    assert sorted(os.listdir(fake_dir / 'images')) == names
    assert sorted(os.listdir(fake_dir / 'masks')) == names
    agreement = []
    for name in names:
        crop = cv2.imread(str(fake_dir / 'images' / name))
        mask = cv2.imread(str(fake_dir / 'masks' / name), cv2.IMREAD_UNCHANGED)
        assert crop.shape[0] == crop.shape[1] and mask.shape == crop.shape[:2]
        assert 90 <= crop.shape[0] <= 125  # 1.3 x a face of about 80 px
        assert set(np.unique(mask)) == {0, 255}
        b, g, r = (crop[..., c].astype(int) for c in range(3))
        green = (g > 180) & (r < 90) & (b < 90)
        forged = mask == 255
        agreement.append(((green & forged).sum() / forged.sum(),
                          (green & ~forged).sum() / green.sum()))
    inside, outside = np.mean(agreement, axis=0)
    assert inside > 0.85 and outside < 0.1  # the mask covers the green patch and little else
    meta = json.loads((fake_dir / 'video.json').read_text())
    assert meta['total_frames'] == FRAMES and [f['frame'] for f in meta['frames']] == [1, 4, 7, 10]


def test_ffpp_annotation_lists(ffpp_run):
    out, ids, _, _ = ffpp_run
    train = read_jsonl(out / 'annotations' / 'ffpp_c23_train.jsonl')
    test = read_jsonl(out / 'annotations' / 'ffpp_c23_test.jsonl')
    assert {(r['method'], r['video_id'], r['label']) for r in train} == {
        ('original', ids['real'], 0), ('Deepfakes', ids['fake'], 1)}
    assert {(r['method'], r['video_id']) for r in test} == {('original', ids['test_real'])}
    assert len(train) == 8 and len(test) == 4
    for r in train + test:
        assert (out / r['img_path']).is_file()
        if r['label'] == 0:
            assert r['mask_path'] is None
        else:
            assert (out / r['mask_path']).is_file()
            assert Path(r['mask_path']).name == Path(r['img_path']).name


def test_ffpp_rerun_skips_complete_videos(ffpp_run):
    out, ids, _, argv = ffpp_run
    image = out / 'c23' / 'original' / ids['real'] / 'images' / '0001.png'
    before = image.stat().st_mtime_ns
    report = load_tool('ffpp').main(argv + ['--workers', '2'])['c23']
    assert (report['done'], report['skipped'], report['failed']) == (0, 3, 3)
    assert image.stat().st_mtime_ns == before
    assert len(read_jsonl(out / 'annotations' / 'ffpp_c23_train.jsonl')) == 8


def test_dfd_converter_with_a_plugged_in_detector(tmp_path, monkeypatch):
    root, out = tmp_path / 'ffpp', tmp_path / 'out'
    write_video(root / 'original_sequences/actors/c23/videos/01__talking.mp4', real_frames())
    write_video(root / 'manipulated_sequences/DeepFakeDetection/c23/videos/'
                '01_02__talking__AB12CD34.mp4', real_frames())
    (tmp_path / 'fixed_box_detector.py').write_text(
        'def make():\n    return lambda frame: [(40, 40, 120, 120, 1.0)]\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    report = load_tool('dfd').main([str(root), str(out), '--num-frames', '3',
                                    '--detector', 'fixed_box_detector:make'])['c23']
    assert (report['done'], report['failed']) == (2, 0)
    records = read_jsonl(out / 'annotations' / 'dfd_c23_test.jsonl')
    assert {(r['method'], r['video_id'], r['label']) for r in records} == {
        ('original', '01__talking', 0), ('DeepFakeDetection', '01_02__talking__AB12CD34', 1)}
    assert len(records) == 6 and all(r['mask_path'] is None for r in records)
    for r in records:  # the box the detector gave, times the 1.3 margin: 104 px around (80, 80)
        crop = cv2.imread(str(out / r['img_path']))
        assert crop.shape == (104, 104, 3)
        frame = face_frame(r['frame'])
        assert np.abs(crop.astype(int) - frame[28:132, 28:132]).mean() < 6  # mp4v noise only


def test_converter_stops_when_no_input_video_exists(tmp_path):
    (tmp_path / 'ffpp' / 'original_sequences').mkdir(parents=True)
    with pytest.raises(SystemExit, match='none of the .* videos to convert exists'):
        load_tool('ffpp').main([str(tmp_path / 'ffpp'), str(tmp_path / 'out'),
                                '--compression', 'c40', '--splits', 'val'])


def test_dftimit_converter(tmp_path):
    dftimit, vidtimit, out = tmp_path / 'DeepfakeTIMIT', tmp_path / 'VidTIMIT', tmp_path / 'out'
    for quality in ('higher_quality', 'lower_quality'):
        write_video(dftimit / quality / 'fadg0' / 'sa1-video-fram1.avi', real_frames(), 'MJPG')
    for utterance in ('sa1', 'head'):  # 'head' rotation clips are not used
        folder = vidtimit / 'fadg0' / 'video' / utterance
        folder.mkdir(parents=True)
        for k, frame in enumerate(real_frames()):
            (folder / f'{k + 1:03d}').write_bytes(cv2.imencode('.jpg', frame)[1].tobytes())
    report = load_tool('dftimit').main([str(dftimit), str(vidtimit), str(out), '--num-frames', '2'])
    assert (report['done'], report['failed']) == (3, 0)
    for quality in ('hq', 'lq'):
        records = read_jsonl(out / 'annotations' / f'dftimit_{quality}_test.jsonl')
        assert {(r['method'], r['video_id'], r['label']) for r in records} == {
            ('DF-TIMIT', 'fadg0_sa1-video-fram1', 1), ('original', 'fadg0_sa1', 0)}
        assert len(records) == 4
