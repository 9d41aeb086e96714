"""tools/dataset_converters/wilddeepfake.py on a small WildDeepfake tree in the release's
layout: deepfake_in_the_wild/<kind>_<split>/<n>/<kind>/<sequence>/<frame>.png, extracted
parts beside a .tar.gz part left packed."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers.converter_videos import TOOLS, fake_frames, load_tool, read_jsonl, real_frames

FRAMES = 8


def write_sequence(folder, frames):
    folder.mkdir(parents=True)
    for k, frame in enumerate(frames):  # natural order: 2.png before 10.png
        cv2.imwrite(str(folder / f'{k * 4 + 2}.png'), frame)


@pytest.fixture(scope='module')
def wild_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('wild')
    wild = root / 'deepfake_in_the_wild'
    write_sequence(wild / 'real_train' / '1' / 'real' / '7', real_frames(FRAMES))
    write_sequence(wild / 'fake_train' / '1' / 'fake' / '7', fake_frames(FRAMES))
    write_sequence(wild / 'real_test' / '2' / 'real' / '0', real_frames(FRAMES))
    write_sequence(wild / 'fake_test' / '3' / 'fake' / '12', fake_frames(FRAMES))
    write_sequence(wild / 'fake_test' / '3' / 'fake' / '13', fake_frames(5))
    packed = root / 'packed'
    write_sequence(packed / '4' / 'fake' / '0', fake_frames(2))
    with tarfile.open(wild / 'fake_test' / '4.tar.gz', 'w:gz') as tar:
        tar.add(packed / '4', arcname='4')
    (wild / 'fake_test' / '3.tar.gz').write_bytes(b'extracted beside its folder')
    out = tmp_path_factory.mktemp('wild_out')
    argv = [str(root), str(out), '--num-frames', '4']
    return wild, out, argv, load_tool('wilddeepfake').main(argv)


def test_sequences_convert_to_train_and_test_lists(wild_run, capsys):
    _, out, _, report = wild_run
    assert (report['done'], report['failed'], report['videos']) == (5, 0, 5)
    train = read_jsonl(out / 'annotations' / 'wilddeepfake_train.jsonl')
    test = read_jsonl(out / 'annotations' / 'wilddeepfake_test.jsonl')
    assert Counter((r['method'], r['video_id'], r['label']) for r in train) == {
        ('original', '1_7', 0): 4, ('WildDeepfake', '1_7', 1): 4}
    assert Counter((r['method'], r['video_id'], r['label']) for r in test) == {
        ('original', '2_0', 0): 4, ('WildDeepfake', '3_12', 1): 4, ('WildDeepfake', '3_13', 1): 4}
    assert {r['frame'] for r in test if r['video_id'] == '3_12'} == {1, 3, 5, 7}
    assert {r['frame'] for r in test if r['video_id'] == '3_13'} == {0, 1, 3, 4}
    assert all(r['mask_path'] is None and (out / r['img_path']).is_file() for r in train + test)
    assert {r['img_path'].rsplit('/', 2)[0] for r in train + test} == {
        'train/original/1_7', 'train/WildDeepfake/1_7', 'test/original/2_0',
        'test/WildDeepfake/3_12', 'test/WildDeepfake/3_13'}


def test_frames_follow_the_natural_order(wild_run):
    """Frame 1 of sequence 3/12 is its second file in natural order, 6.png (in text order
    it would be 10.png): its crop equals 6.png cut by the recorded box, pixel for pixel."""
    from dadf_mm.preprocessing.face_crop import crop_square
    wild, out, _, _ = wild_run
    folder = out / 'test' / 'WildDeepfake' / '3_12'
    meta = json.loads((folder / 'video.json').read_text())
    assert meta['total_frames'] == FRAMES
    frame = next(f for f in meta['frames'] if f['frame'] == 1)
    crop = cv2.imread(str(folder / 'images' / frame['file']))
    sources = {name: cv2.imread(str(wild / 'fake_test' / '3' / 'fake' / '12' / name))
               for name in ('6.png', '10.png')}
    assert np.array_equal(crop, crop_square(sources['6.png'], tuple(frame['box'])))
    assert not np.array_equal(crop, crop_square(sources['10.png'], tuple(frame['box'])))


def snapshot(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob('*'))
            if p.is_file() and 'reports' not in p.parts}


def test_part_with_the_wrong_label_is_one_line_and_keeps_the_output(wild_run):
    """A fake part inside real_test/ (its label would be wrong): exit status 1, one line
    naming the folder, the earlier crops and lists all still there."""
    wild, out, argv, _ = wild_run
    before = snapshot(out)
    wrong = wild / 'real_test' / '5' / 'fake'
    write_sequence(wrong / '0', fake_frames(2))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    try:
        proc = subprocess.run([sys.executable, str(TOOLS / 'wilddeepfake.py'), *argv], env=env,
                              capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(wrong.parent)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f'wilddeepfake.py: {wrong}: fake sequences in real_test/, whose label is real; move '
        'part 5 to fake_test/']
    assert snapshot(out) == before


def test_rerun_skips_and_warns_of_packed_parts(wild_run, capsys):
    _, _, argv, _ = wild_run
    report = load_tool('wilddeepfake').main(argv + ['--splits', 'test'])
    assert (report['done'], report['skipped']) == (0, 3)
    assert 'warning: 1 parts are not extracted' in capsys.readouterr().out


def test_nothing_extracted_is_one_line(tmp_path):
    from converter_setup import run_converter
    (tmp_path / 'wild' / 'real_test').mkdir(parents=True)
    archive = tmp_path / 'wild' / 'real_test' / '1.tar.gz'
    archive.write_bytes(b'')
    with pytest.raises(SystemExit) as stop:
        run_converter(load_tool('wilddeepfake').main, 'wilddeepfake.py',
                      [str(tmp_path / 'wild'), str(tmp_path / 'out')])
    assert stop.value.code == (
        f'wilddeepfake.py: no extracted WildDeepfake sequences under {tmp_path / "wild"}: '
        f'extract the parts first, e.g. tar -xzf {archive} -C {archive.parent}')
    assert not (tmp_path / 'out').exists()
