"""The dataset converters on small trees in the official layouts, written here."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from dadf_mm.datasets import DFDDataset, DFTIMITDataset
from tests.helpers.converter_videos import (
    FRAMES,
    SIZE,
    TOOLS,
    face_frame,
    fake_frames,
    ffmpeg,
    load_tool,
    mask_frames,
    read_jsonl,
    real_frames,
    write_h264,
    write_video,
)


def video_groups(dataset):
    """(method, video_id) -> frames, as the metric groups them; every record of a
    converter's list names its video (``video_id_source`` 'video_id')."""
    infos = dataset.load_data_list()
    assert {info['video_id_source'] for info in infos} == {'video_id'}
    return dict(Counter((info['method'], info['video_id']) for info in infos))


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


def test_ffpp_rerun_with_other_options_redoes_videos(ffpp_run, tmp_path, capsys):
    """Options are part of "complete": --num-frames 8 --size 64 redoes every video."""
    out, ids, _, argv = ffpp_run
    copy = tmp_path / 'out'
    shutil.copytree(out, copy)
    (copy / 'c23' / 'Deepfakes' / ids['fake'] / 'video.json').write_text('{"options": ')
    argv = [argv[0], str(copy)] + argv[2:] + ['--num-frames', '8', '--size', '64']
    report = load_tool('ffpp').main(argv)['c23']
    assert (report['done'], report['skipped'], report['failed'], report['redone']) == (3, 0, 3, 3)
    reasons = {r['video_id']: r['reason'] for r in report['redone_videos']}
    assert reasons[ids['real']] == reasons[ids['test_real']] == (
        'converted with other options: num_frames 4 -> 8, size None -> 64')
    assert reasons[ids['fake']].startswith('video.json unreadable (JSONDecodeError')
    assert 'redone, converted with other options: num_frames 4 -> 8, size None -> 64: 2' in (
        capsys.readouterr().out)
    names = [f'{k:04d}.png' for k in (0, 2, 3, 5, 6, 8, 9, 11)]  # 8 of 12: segment centres
    for video in (copy / 'c23' / 'original' / ids['real'],
                  copy / 'c23' / 'Deepfakes' / ids['fake']):
        assert sorted(os.listdir(video / 'images')) == names
        assert cv2.imread(str(video / 'images' / names[0])).shape == (64, 64, 3)
        assert json.loads((video / 'video.json').read_text())['options']['size'] == 64
    assert sorted(os.listdir(copy / 'c23' / 'Deepfakes' / ids['fake'] / 'masks')) == names
    assert not [p for p in (copy / 'c23').rglob('.*')]  # no .partial or .old folder left
    assert len(read_jsonl(copy / 'annotations' / 'ffpp_c23_train.jsonl')) == 16
    again = load_tool('ffpp').main(argv)['c23']
    assert (again['done'], again['skipped'], again['redone']) == (0, 3, 0)


def test_lists_leave_out_videos_of_other_options(ffpp_run, tmp_path):
    """A run of one method at other options does not list the other method's old crops."""
    out, ids, _, argv = ffpp_run
    copy = tmp_path / 'out'
    shutil.copytree(out, copy)
    meta = copy / 'c23' / 'Deepfakes' / ids['fake'] / 'video.json'
    changed = json.loads(meta.read_text())
    changed['options']['margin'] = 1.5  # as if converted by an earlier run with --margin 1.5
    meta.write_text(json.dumps(changed))
    from dadf_mm.preprocessing.conversion_runner import write_split_lists
    from dadf_mm.preprocessing.video_conversion import ConversionOptions, completion
    tool = load_tool('ffpp')
    jobs = tool.ffpp_jobs(argv[0], 'c23', 'train', ['Deepfakes'])
    options = ConversionOptions(num_frames=4)
    fake = next(job for job in jobs if job.video_id == ids['fake'])
    assert completion(fake, str(copy), options) == ('converted with other options: '
                                                    'margin 1.5 -> 1.3')
    summary = write_split_lists(str(copy), {'train': jobs}, {'train': 'l.jsonl'}, options)
    assert (summary['train']['videos'], summary['train']['videos_other_options']) == (1, 1)
    assert {r['method'] for r in read_jsonl(copy / 'annotations' / 'l.jsonl')} == {'original'}


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
    assert video_groups(DFDDataset(data_root=str(out))) == {
        ('original', '01__talking'): 3, ('DeepFakeDetection', '01_02__talking__AB12CD34'): 3}
    for r in records:  # the box the detector gave, times the 1.3 margin: 104 px around (80, 80)
        crop = cv2.imread(str(out / r['img_path']))
        assert crop.shape == (104, 104, 3)
        frame = face_frame(r['frame'])
        assert np.abs(crop.astype(int) - frame[28:132, 28:132]).mean() < 6  # mp4v noise only


def test_converter_stops_when_no_input_video_exists(tmp_path):
    (tmp_path / 'ffpp' / 'original_sequences').mkdir(parents=True)
    from dadf_mm.preprocessing.conversion_runner import ConverterError
    with pytest.raises(ConverterError, match='none of the .* videos to convert exists'):
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
        assert video_groups(DFTIMITDataset(data_root=str(out), quality=quality)) == {
            ('DF-TIMIT', 'fadg0_sa1-video-fram1'): 2, ('original', 'fadg0_sa1'): 2}


# --- H.264, as FaceForensics++ ships it (c23 / c40), written by imageio-ffmpeg's ffmpeg ------
H264_FRAMES = 16


def decoded_frame_count(path):
    """Frames ffmpeg itself decodes (one framemd5 line each), independent of OpenCV."""
    lines = subprocess.run([ffmpeg(), '-v', 'quiet', '-i', str(path), '-map', '0:v', '-f',
                            'framemd5', '-'], capture_output=True, text=True).stdout
    return sum(1 for line in lines.splitlines() if line and not line.startswith('#'))


def header_frame_count(path):
    cap = cv2.VideoCapture(str(path))
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    cap.release()
    return count


def frame_times_ms(path):
    cap, times = cv2.VideoCapture(str(path)), []
    while cap.grab():
        times.append(cap.get(cv2.CAP_PROP_POS_MSEC))
    cap.release()
    return times


@pytest.fixture(scope='module')
def h264_tree(tmp_path_factory):
    """FF++ layout in H.264 at c23 and c40, with a cut-off download (the header counts 20
    frames, fewer decode), a stream without a frame count, and a variable frame rate."""
    root = tmp_path_factory.mktemp('ffpp_h264')
    (t, s), (tt, _) = split_pairs('train')[0], split_pairs('test')[0]
    base = root / 'manipulated_sequences' / 'Deepfakes'
    write_h264(base / 'masks' / 'videos' / f'{t}_{s}.mp4', mask_frames(H264_FRAMES), 23)
    for comp, crf in (('c23', 23), ('c40', 40)):
        real = root / 'original_sequences' / 'youtube' / comp / 'videos'
        write_h264(real / f'{t}.mp4', real_frames(H264_FRAMES), crf)
        write_h264(base / comp / 'videos' / f'{t}_{s}.mp4', fake_frames(H264_FRAMES), crf)
    real = root / 'original_sequences' / 'youtube'
    full = root / 'full.mp4'
    write_h264(full, real_frames(20), 23, '-g', '4', '-movflags', '+faststart')
    data = full.read_bytes()
    (real / 'c23' / 'videos' / f'{s}.mp4').write_bytes(data[:int(len(data) * 0.55)])
    write_h264(real / 'c40' / 'videos' / f'{s}.mp4', real_frames(H264_FRAMES), 40, '-f', 'h264')
    vfr = "setpts='if(lt(N,8),N/25,0.32+(N-8)/8)/TB'"  # 25 fps, then 8 fps
    write_h264(real / 'c23' / 'videos' / f'{tt}.mp4', real_frames(H264_FRAMES), 23, '-vf', vfr,
               '-fps_mode', 'vfr')
    return root, dict(real=t, cut=s, raw=s, vfr=tt, fake=f'{t}_{s}')


def test_h264_videos_at_c23_and_c40(h264_tree, tmp_path):
    root, ids = h264_tree
    real = root / 'original_sequences' / 'youtube'
    cut = real / 'c23' / 'videos' / f'{ids["cut"]}.mp4'
    cut_frames = decoded_frame_count(cut)
    # the inputs are what they claim: a header that overcounts, no count, a variable rate
    assert header_frame_count(cut) == 20 and 4 <= cut_frames < 20
    assert header_frame_count(real / 'c40' / 'videos' / f'{ids["raw"]}.mp4') != H264_FRAMES
    steps = np.diff(frame_times_ms(real / 'c23' / 'videos' / f'{ids["vfr"]}.mp4')).round()
    assert set(steps) == {40, 120}  # 25 fps, then 8 fps (in the 1/25 s time base: 120 ms)
    out = tmp_path / 'out'
    reports = load_tool('ffpp').main([str(root), str(out), '--methods', 'Deepfakes',
                                      '--compression', 'c23', 'c40', '--splits', 'train', 'test',
                                      '--num-frames', '4'])
    assert [(r['done'], r['failed']) for r in reports.values()] == [(4, 0), (3, 0)]
    expected = {('c23', 'original', ids['real']): H264_FRAMES,
                ('c23', 'original', ids['cut']): cut_frames,
                ('c23', 'original', ids['vfr']): H264_FRAMES,
                ('c23', 'Deepfakes', ids['fake']): H264_FRAMES,
                ('c40', 'original', ids['real']): H264_FRAMES,
                ('c40', 'original', ids['raw']): H264_FRAMES,
                ('c40', 'Deepfakes', ids['fake']): H264_FRAMES}
    from dadf_mm.preprocessing import crop_square
    sources = real_frames(20)
    for (comp, method, video), total in expected.items():
        meta = json.loads((out / comp / method / video / 'video.json').read_text())
        frames = [int((i + 0.5) * total / 4) for i in range(4)]  # centres of 4 segments
        assert meta['total_frames'] == total and [f['frame'] for f in meta['frames']] == frames
        for record in meta['frames']:  # each crop is of its own frame, not a neighbour
            crop = cv2.imread(str(out / comp / method / video / 'images' / record['file']))
            x1, y1, side = record['box'][:3]
            errors = {k: np.abs(crop.astype(int) - crop_square(
                sources[k], (x1, y1, side)).astype(int)).mean()
                for k in range(max(record['frame'] - 1, 0), record['frame'] + 2)}
            if method == 'original':
                assert min(errors, key=errors.get) == record['frame'], (video, errors)
                assert errors[record['frame']] < (6 if comp == 'c23' else 12)
    masks = out / 'c40' / 'Deepfakes' / ids['fake'] / 'masks'
    for name in os.listdir(masks):
        mask = cv2.imread(str(masks / name), cv2.IMREAD_UNCHANGED)
        crop = cv2.imread(str(masks.parent / 'images' / name))
        assert set(np.unique(mask)) == {0, 255}
        green = (crop[..., 1] > 150) & (crop[..., 2] < 110)
        assert (green & (mask == 255)).sum() > 0.8 * green.sum() > 0


# --- arguments and the output folder are checked before any video is read -----------------
REPO = TOOLS.parents[1]
BAD_ARGUMENTS = [
    (['--num-frames', '0'], '--num-frames must be at least 1, got 0'),
    (['--workers', '0'], f'--workers must be from 1 to {4 * os.cpu_count()} (4 per CPU core), '
                         'got 0'),
    (['--workers', '100000'], f'--workers must be from 1 to {4 * os.cpu_count()} (4 per CPU '
                              'core), got 100000'),
    (['--size', '0'], "--size must be from 1 to 4096 (leave it out to keep each crop's size), "
                      'got 0'),
    (['--size', '100000'], "--size must be from 1 to 4096 (leave it out to keep each crop's "
                           'size), got 100000'),
    (['--margin', '0'], '--margin must be above 0 and at most 10 (the crop side per face side, '
                        'e.g. 1.3), got 0.0'),
    (['--margin', 'nan'], '--margin must be above 0 and at most 10 (the crop side per face '
                          'side, e.g. 1.3), got nan'),
    (['--margin', '1000'], '--margin must be above 0 and at most 10 (the crop side per face '
                           'side, e.g. 1.3), got 1000.0'),
    (['--mask-threshold', '255'], '--mask-threshold must be from 0 to 254 (a mask pixel is '
                                  'forged where its grey value exceeds it: below 0 every '
                                  'pixel would be, from 255 none), got 255'),
    (['--mask-threshold', '-1'], '--mask-threshold must be from 0 to 254 (a mask pixel is '
                                 'forged where its grey value exceeds it: below 0 every '
                                 'pixel would be, from 255 none), got -1'),
]


def dfd_tree(root, videos=1, frames=FRAMES):
    """DFD layout (c23) with ``videos`` real and ``videos`` fake face videos."""
    for k in range(videos):
        write_video(root / f'original_sequences/actors/c23/videos/{k:02d}__talking.mp4',
                    real_frames(frames))
        write_video(root / 'manipulated_sequences/DeepFakeDetection/c23/videos/'
                    f'{k:02d}_09__talking__AB12CD34.mp4', real_frames(frames))
    return root


def counting_detector(folder, delay=0.0):
    """A module ``counted_faces`` whose detector (``counted_faces:make``) returns a fixed
    box, after ``delay`` seconds, and leaves one file per call in ``folder/calls``."""
    (folder / 'calls').mkdir()
    (folder / 'counted_faces.py').write_text(
        'import os, tempfile, time\n'
        'def make():\n'
        '    def detect(frame):\n'
        f'        os.close(tempfile.mkstemp(dir={str(folder / "calls")!r})[0])\n'
        f'        time.sleep({delay})\n'
        '        return [(40, 40, 120, 120, 1.0)]\n'
        '    return detect\n')
    return 'counted_faces:make'


@pytest.mark.parametrize('arguments, message', BAD_ARGUMENTS)
def test_bad_argument_is_one_line_before_any_work(tmp_path, monkeypatch, arguments, message):
    root, out = dfd_tree(tmp_path / 'ffpp'), tmp_path / 'out'
    detector = counting_detector(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    from converter_setup import run_converter
    tool = load_tool('dfd')
    with pytest.raises(SystemExit) as stop:
        run_converter(tool.main, 'dfd.py', [str(root), str(out), '--detector', detector,
                                            *arguments])
    assert stop.value.code == f'dfd.py: {message}'
    assert not out.exists() and not os.listdir(tmp_path / 'calls')


def test_missing_input_folder_is_one_line(tmp_path):
    from converter_setup import run_converter
    for name, argv in (('dfd', [tmp_path / 'gone', tmp_path / 'out']),
                       ('ffpp', [tmp_path / 'gone', tmp_path / 'out']),
                       ('dftimit', [tmp_path, tmp_path / 'gone', tmp_path / 'out'])):
        with pytest.raises(SystemExit) as stop:
            run_converter(load_tool(name).main, f'{name}.py', [str(a) for a in argv])
        assert stop.value.code == (f'{name}.py: input folder {tmp_path / "gone"} does not '
                                   "exist; pass the dataset's download folder")
    assert not (tmp_path / 'out').exists()


def subprocess_env(*paths):
    return dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, [REPO, *paths])))


READ_ONLY_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def with_read_only_folder(command, folder):
    """``command`` for which ``folder`` cannot be written: by its file mode for a user; for
    root, whom file modes do not stop, by a read-only bind mount in a mount namespace of the
    command's own (``unshare``)."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return command
    wrapped = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', READ_ONLY_MOUNT,
               'sh', str(folder)]
    probe = subprocess.run([*wrapped, 'touch', str(folder / 'probe')], capture_output=True)
    if probe.returncode == 0 or b'Read-only file system' not in probe.stderr:
        pytest.skip('root here cannot make a folder read-only (no unshare/mount rights)')
    return [*wrapped, *command]


def test_read_only_output_folder_is_refused_before_any_video(tmp_path):
    """Before: every video was decoded and its faces detected, each failed to be written,
    and writing the lists ended in a PermissionError traceback."""
    root = dfd_tree(tmp_path / 'ffpp')
    detector = counting_detector(tmp_path)
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'kept.txt').write_text('written before')
    command = with_read_only_folder(
        [sys.executable, str(TOOLS / 'dfd.py'), str(root), str(out), '--detector', detector], out)
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              env=subprocess_env(tmp_path), timeout=300)
    finally:
        os.chmod(out, 0o755)
    assert proc.returncode == 1, proc.stderr[-3000:]
    why = 'Permission denied' if os.geteuid() != 0 else 'Read-only file system'
    assert proc.stderr.strip().splitlines() == [
        f'dfd.py: output folder {out} is not writable ({why}); pass a writable output folder, '
        'or make it writable (e.g. chmod -R u+w, or a read-write mount)']
    assert os.listdir(tmp_path / 'calls') == []  # no frame reached the detector
    assert os.listdir(out) == ['kept.txt'] and (out / 'kept.txt').read_text() == 'written before'


# --- SIGINT and SIGTERM end the converter and its workers, with one line --------------------
def descendants(pid):
    """The processes below ``pid`` (the fork server, the pool workers, ...), from /proc."""
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                stat = Path(f'/proc/{entry}/stat').read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(')', 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def running(pid):
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except OSError:
        return False
    return state != 'Z'


def wait_for(condition, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def stopped_run(command, env, out, stop):
    """Starts the converter, sends ``stop`` once a video more is complete, and checks the
    exit status, the one line and that no process of the run is left."""
    converted = lambda: list(out.glob('c23/*/*/video.json'))  # noqa: E731
    before = len(converted())
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    workers = []
    try:
        assert wait_for(lambda: len(converted()) > before or proc.poll() is not None, 120)
        assert proc.poll() is None, 'the conversion ended before it could be stopped'
        workers = descendants(proc.pid)
        assert len(workers) >= 3  # the fork server and two workers (and a resource tracker)
        proc.send_signal(stop)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 128 + stop, stderr[-3000:]
        assert 'Traceback' not in stderr, stderr[-3000:]
        name = signal.Signals(stop).name
        assert re.fullmatch(
            rf'dfd\.py: stopped by {name} after converting \d+ of \d+ videos; every video '
            'finished so far is kept, and the same command converts the rest',
            stderr.splitlines()[-1]), stderr[-3000:]
        assert wait_for(lambda: not any(running(pid) for pid in workers), 10), [
            Path(f'/proc/{pid}/cmdline').read_text() for pid in workers if running(pid)]
        assert len(converted()) > before  # what finished is kept
    finally:
        for pid in [proc.pid, *workers]:  # processes this test started, if any is left
            if running(pid):
                os.kill(pid, signal.SIGKILL)
    return {p: p.stat().st_mtime_ns for p in converted()}


def test_sigint_and_sigterm_end_converter_and_workers_then_rerun_resumes(tmp_path, monkeypatch):
    """Before: SIGINT printed a KeyboardInterrupt traceback; SIGTERM killed the converter
    alone, and its pool workers went on running."""
    root = dfd_tree(tmp_path / 'ffpp', videos=3)  # 6 videos, 0.8 s each: 3 rounds of 2
    detector = counting_detector(tmp_path, delay=0.1)
    out = tmp_path / 'out'
    command = [sys.executable, str(TOOLS / 'dfd.py'), str(root), str(out), '--num-frames', '8',
               '--workers', '2', '--detector', detector]
    env = subprocess_env(tmp_path)
    stopped_run(command, env, out, signal.SIGINT)
    kept = stopped_run(command, env, out, signal.SIGTERM)
    assert len(kept) < 6
    # the same command (in this process, with one worker: the options that make a video
    # complete are the same) converts the rest
    monkeypatch.syspath_prepend(str(tmp_path))
    report = load_tool('dfd').main([str(root), str(out), '--num-frames', '8', '--detector',
                                    detector])['c23']
    assert (report['skipped'], report['done'], report['failed']) == (len(kept), 6 - len(kept), 0)
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # not converted again
    records = read_jsonl(out / 'annotations' / 'dfd_c23_test.jsonl')
    assert len({r['video_id'] for r in records}) == 6 and len(records) == 48
    assert not list(out.rglob('.*.partial'))


def catches(pid, signum):
    """Whether process ``pid`` has a handler of its own for ``signum`` (/proc SigCgt)."""
    try:
        status = Path(f'/proc/{pid}/status').read_text()
    except OSError:
        return False
    mask = int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith('SigCgt:')), 16)
    return bool(mask >> (signum - 1) & 1)


def test_signal_while_the_libraries_load_is_one_line(tmp_path):
    """Before: a KeyboardInterrupt traceback from inside the imports."""
    out = tmp_path / 'out'
    proc = subprocess.Popen([sys.executable, str(TOOLS / 'dfd.py'), str(tmp_path), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=subprocess_env())
    try:
        # SIGTERM is caught once the script's first lines ran, seconds before torch is loaded
        assert wait_for(lambda: catches(proc.pid, signal.SIGTERM) or proc.poll() is not None, 60)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-3000:]
    assert stderr.splitlines() == [
        'dfd.py: stopped by SIGINT while starting; nothing was converted'], stderr[-3000:]
    assert not out.exists()
