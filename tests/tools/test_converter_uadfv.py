"""tools/dataset_converters/uadfv.py on a small UADFV tree in the official layout (H.264
videos real/<id>.mp4 and fake/<id>_fake.mp4)."""
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.converter_videos import (
    TOOLS,
    fake_frames,
    load_tool,
    read_jsonl,
    real_frames,
    write_h264,
)

FRAMES = 8


@pytest.fixture(scope='module')
def uadfv_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('uadfv')
    write_h264(root / 'real' / '0000.mp4', real_frames(FRAMES), 23)
    write_h264(root / 'real' / '0001.mp4', real_frames(FRAMES), 23)
    write_h264(root / 'fake' / '0000_fake.mp4', fake_frames(FRAMES), 23)
    (root / 'fake' / 'notes.txt').write_text('not a video')
    out = tmp_path_factory.mktemp('uadfv_out')
    argv = [str(root), str(out), '--num-frames', '4']
    return root, out, argv, load_tool('uadfv').main(argv)


def test_uadfv_test_list(uadfv_run):
    _, out, _, report = uadfv_run
    assert (report['done'], report['failed'], report['videos']) == (3, 0, 3)
    records = read_jsonl(out / 'annotations' / 'uadfv_test.jsonl')
    assert Counter((r['method'], r['video_id'], r['label']) for r in records) == {
        ('original', '0000', 0): 4, ('original', '0001', 0): 4, ('UADFV', '0000_fake', 1): 4}
    assert {r['frame'] for r in records} == {1, 3, 5, 7}
    assert all(r['mask_path'] is None and (out / r['img_path']).is_file() for r in records)
    assert {r['img_path'].rsplit('/', 1)[0] for r in records} == {
        'test/original/0000/images', 'test/original/0001/images', 'test/UADFV/0000_fake/images'}


def snapshot(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob('*'))
            if p.is_file() and 'reports' not in p.parts}


def test_video_in_the_wrong_folder_is_one_line_and_keeps_the_output(uadfv_run):
    """A fake named as a real video (its label would be guessed wrong): exit status 1, one
    line naming the file, the earlier crops and list all still there."""
    root, out, argv, _ = uadfv_run
    before = snapshot(out)
    misplaced = root / 'fake' / '0001.mp4'
    (root / 'real' / '0001.mp4').rename(misplaced)
    try:
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        proc = subprocess.run([sys.executable, str(TOOLS / 'uadfv.py'), *argv], env=env,
                              capture_output=True, text=True, timeout=300)
    finally:
        misplaced.rename(root / 'real' / '0001.mp4')
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f'uadfv.py: {misplaced}: UADFV names the videos in fake/ <id>_fake.mp4; the folder '
        'gives the label, so move the video to the folder its name says']
    assert snapshot(out) == before


def test_rerun_skips_and_a_fake_in_real_is_refused(uadfv_run, capsys):
    from converter_setup import run_converter
    root, out, argv, _ = uadfv_run
    report = load_tool('uadfv').main(argv)
    assert (report['done'], report['skipped']) == (0, 3)
    misplaced = root / 'real' / '0002_fake.mp4'
    misplaced.write_bytes(b'')
    try:
        with pytest.raises(SystemExit) as stop:
            run_converter(load_tool('uadfv').main, 'uadfv.py', argv)
    finally:
        misplaced.unlink()
    assert stop.value.code == (f'uadfv.py: {misplaced}: UADFV names the videos in real/ '
                               '<id>.mp4 (no _fake); the folder gives the label, so move the '
                               'video to the folder its name says')


def test_empty_download_is_one_line(tmp_path):
    from converter_setup import run_converter
    (tmp_path / 'uadfv' / 'real').mkdir(parents=True)
    with pytest.raises(SystemExit) as stop:
        run_converter(load_tool('uadfv').main, 'uadfv.py',
                      [str(tmp_path / 'uadfv'), str(tmp_path / 'out')])
    assert stop.value.code == (f'uadfv.py: no UADFV videos under {tmp_path / "uadfv"}: '
                               'expected real/<id>.mp4 and fake/<id>_fake.mp4')
    assert not (tmp_path / 'out').exists()
