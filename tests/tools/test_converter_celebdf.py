"""tools/dataset_converters/celebdf.py on small Celeb-DF v1 and v2 trees in the official
layout (H.264 videos, List_of_testing_videos.txt with Celeb-DF's labels: 1 real, 0 fake)."""
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


def write_celebdf(folder, videos, listed):
    """``videos``: relative paths to write (Celeb-synthesis ones forged); ``listed``: the
    test list's lines."""
    for rel in videos:
        frames = fake_frames(FRAMES) if rel.startswith('Celeb-synthesis') else real_frames(FRAMES)
        write_h264(folder / rel, frames, 23)
    (folder / 'List_of_testing_videos.txt').write_text(''.join(f'{line}\n' for line in listed))


@pytest.fixture(scope='module')
def celebdf_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('celebdf')
    write_celebdf(root / 'Celeb-DF-v2',
                  ['Celeb-real/id0_0000.mp4', 'Celeb-real/id0_0001.mp4', 'YouTube-real/00170.mp4',
                   'Celeb-synthesis/id0_id1_0000.mp4', 'Celeb-synthesis/id1_id0_0001.mp4'],
                  ['1 YouTube-real/00170.mp4', '0 Celeb-synthesis/id0_id1_0000.mp4',
                   '1 Celeb-real/id0_0001.mp4', '0 Celeb-synthesis/id9_id8_0000.mp4'])  # absent
    write_celebdf(root / 'Celeb-DF-v1', ['Celeb-real/id3_0000.mp4',
                                         'Celeb-synthesis/videos/id3_id4_0000.mp4'],
                  ['0 Celeb-synthesis/id3_id4_0000.mp4'])
    out = tmp_path_factory.mktemp('celebdf_out')
    argv = [str(root), str(out), '--version', 'v1', 'v2', '--num-frames', '4']
    return root, out, argv, load_tool('celebdf').main(argv)


def listed(out, name):
    records = read_jsonl(out / 'annotations' / name)
    return records, Counter((r['method'], r['video_id'], r['label']) for r in records)


def test_celebdf_v1_and_v2_into_one_folder(celebdf_run):
    _, out, _, reports = celebdf_run
    v1, v2 = reports['v1'], reports['v2']
    assert (v2['done'], v2['failed'], v2['not_in_download']) == (5, 0, 1)
    assert (v1['done'], v1['failed'], v1['not_in_download']) == (2, 0, 0)
    records, videos = listed(out, 'celebdf_v2_test.jsonl')
    assert videos == {('original', '00170', 0): 4, ('Celeb-synthesis', 'id0_id1_0000', 1): 4,
                      ('original', 'id0_0001', 0): 4}
    assert all(r['mask_path'] is None and r['img_path'].startswith('v2/') for r in records)
    assert {r['frame'] for r in records} == {1, 3, 5, 7}  # 4 of 8 frames, evenly spaced
    assert all((out / r['img_path']).is_file() for r in records)
    _, videos = listed(out, 'celebdf_v2_train.jsonl')
    assert videos == {('original', 'id0_0000', 0): 4, ('Celeb-synthesis', 'id1_id0_0001', 1): 4}
    _, videos = listed(out, 'celebdf_v1_test.jsonl')  # a folder's videos/ is read as well
    assert videos == {('Celeb-synthesis', 'id3_id4_0000', 1): 4}
    records, videos = listed(out, 'celebdf_v1_train.jsonl')
    assert videos == {('original', 'id3_0000', 0): 4}
    assert records[0]['img_path'].startswith('v1/original/id3_0000/images/')


def test_celebdf_rerun_skips_complete_videos(celebdf_run):
    _, out, argv, _ = celebdf_run
    reports = load_tool('celebdf').main(argv)
    assert [(r['done'], r['skipped']) for r in reports.values()] == [(0, 2), (0, 5)]
    reports = load_tool('celebdf').main(argv + ['--splits', 'test'])  # the listed videos only
    assert [(r['skipped'], r['not_in_download'], list(r['annotations']))
            for r in reports.values()] == [(1, 0, ['test']), (3, 1, ['test'])]


def snapshot(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob('*'))
            if p.is_file() and 'reports' not in p.parts}


def run_with_line_3(root, argv, line, command):
    """``command(argv)`` with line 3 of the v2 test list replaced by ``line``."""
    test_list = root / 'Celeb-DF-v2' / 'List_of_testing_videos.txt'
    good = test_list.read_text()
    lines = good.splitlines()
    lines[2] = line
    test_list.write_text('\n'.join(lines) + '\n')
    try:
        return test_list, command(argv)
    finally:
        test_list.write_text(good)


def test_malformed_test_list_stops_the_program_in_one_line(celebdf_run):
    """Exit status 1 and one line naming the file and line; the earlier crops and lists
    are all still there."""
    root, out, argv, _ = celebdf_run
    before = snapshot(out)
    assert any(name.endswith('celebdf_v2_test.jsonl') for name in before)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    test_list, proc = run_with_line_3(
        root, argv, '2 Celeb-real/id0_0001.mp4',
        lambda a: subprocess.run([sys.executable, str(TOOLS / 'celebdf.py'), *a], env=env,
                                 capture_output=True, text=True, timeout=300))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"celebdf.py: {test_list} line 3: '2 Celeb-real/id0_0001.mp4' is not \"<label> "
        '<folder>/<file>.mp4" with label 1 (real) or 0 (fake)']
    assert snapshot(out) == before


@pytest.mark.parametrize('line, message', [
    ('Celeb-real/id0_0001.mp4', "'Celeb-real/id0_0001.mp4' is not"),
    ('1 Celeb-real/id0_0001.avi', "'1 Celeb-real/id0_0001.avi' is not"),
    ('0 Celeb-real/id0_0001.mp4', 'label 0 contradicts Celeb-real/ (Celeb-DF lists real videos '
     'with 1, Celeb-synthesis with 0): is this the official list?'),
    ('1 Celeb-fake/id0_0001.mp4', "unknown folder 'Celeb-fake'; Celeb-DF has Celeb-real, "
     'YouTube-real, Celeb-synthesis'),
])
def test_each_malformed_line_is_named(celebdf_run, line, message):
    from converter_setup import run_converter
    root, out, argv, _ = celebdf_run
    before = snapshot(out)

    def convert(a):
        with pytest.raises(SystemExit) as stop:
            run_converter(load_tool('celebdf').main, 'celebdf.py', a)
        return stop.value.code

    test_list, code = run_with_line_3(root, argv, line, convert)
    assert code.startswith(f'celebdf.py: {test_list} line 3: ') and message in code
    assert snapshot(out) == before


def test_missing_version_is_one_line(tmp_path):
    from converter_setup import run_converter
    (tmp_path / 'data').mkdir()
    with pytest.raises(SystemExit) as stop:
        run_converter(load_tool('celebdf').main, 'celebdf.py',
                      [str(tmp_path / 'data'), str(tmp_path / 'out'), '--version', 'v1', 'v2'])
    assert stop.value.code.startswith(f'celebdf.py: no Celeb-DF v1 download under '
                                      f'{tmp_path / "data"}: none of ')
    assert not (tmp_path / 'out').exists()


def test_test_list_with_bom_crlf_and_blank_lines(tmp_path):
    """As a list saved on Windows reads: the byte-order mark is not part of the label."""
    (tmp_path / 'List_of_testing_videos.txt').write_bytes(
        '\ufeff1 YouTube-real/00170.mp4\r\n\r\n0 Celeb-synthesis/id0_id1_0000.mp4\r\n'
        '1 YouTube-real/00170.mp4\r\n'.encode('utf-8'))
    assert load_tool('celebdf').read_test_list(str(tmp_path)) == [
        ('YouTube-real', '00170.mp4'), ('Celeb-synthesis', 'id0_id1_0000.mp4')]
