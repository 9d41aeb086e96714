"""deeperforensics.py on a small DeeperForensics-1.0 tree (manipulated_videos/<variant>/,
lists/splits/) with its real target videos in the FaceForensics++ layout."""
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from dadf_mm.preprocessing.conversion_errors import ConverterError
from tests.helpers.converter_videos import (
    TOOLS,
    fake_frames,
    load_tool,
    read_jsonl,
    real_frames,
    write_h264,
)

REPO = Path(__file__).resolve().parents[2]
# split -> its fakes; target 000 is in train and test (the splits group fakes by actor)
LISTS = {'train': ['000_M101.mp4'], 'val': ['001_W102.mp4'],
         'test': ['002_M103.mp4', '000_M104.mp4']}


def deeper_tree(root):
    """The two downloads: DeeperForensics (end_to_end: every listed fake; level_5: one)
    and FF++ c23 with the three target videos."""
    deeper, ffpp = root / 'DeeperForensics-1.0', root / 'FaceForensics++'
    for name in [n for names in LISTS.values() for n in names]:
        write_h264(deeper / 'manipulated_videos' / 'end_to_end' / name, fake_frames(), 23)
    write_h264(deeper / 'manipulated_videos' / 'end_to_end_level_5' / '002_M103.mp4',
               fake_frames(), 40)
    for target in ('000', '001', '002'):
        write_h264(ffpp / 'original_sequences' / 'youtube' / 'c23' / 'videos' / f'{target}.mp4',
                   real_frames(), 23)
    splits = deeper / 'lists' / 'splits'
    splits.mkdir(parents=True)
    for split, names in LISTS.items():  # as an editor may save them: CRLF, a byte-order mark
        (splits / f'{split}.txt').write_text('\ufeff' + ''.join(f'{n}\r\n' for n in names))
    return deeper, ffpp


def arguments(deeper, ffpp, out, *more):
    return [str(deeper), str(out), '--ffpp-root', str(ffpp), '--num-frames', '4', *more]


@pytest.fixture(scope='module')
def deeper_run(tmp_path_factory):
    deeper, ffpp = deeper_tree(tmp_path_factory.mktemp('downloads'))
    out = tmp_path_factory.mktemp('deeper_out')
    report = load_tool('deeperforensics').main(arguments(deeper, ffpp, out))
    return deeper, ffpp, out, report


def videos(records):
    return dict(Counter((r['method'], r['video_id'], r['label']) for r in records))


def test_splits_hold_their_fakes_and_the_fakes_target_videos(deeper_run):
    _, _, out, report = deeper_run
    assert (report['done'], report['failed'], report['not_in_download']) == (7, 0, 0)
    lists = {s: read_jsonl(out / 'annotations' / f'deeperforensics_{s}.jsonl') for s in LISTS}
    fake, real = 'DeeperForensics', 'original'
    assert videos(lists['train']) == {(fake, '000_M101', 1): 4, (real, '000', 0): 4}
    assert videos(lists['val']) == {(fake, '001_W102', 1): 4, (real, '001', 0): 4}
    assert videos(lists['test']) == {(fake, '002_M103', 1): 4, (fake, '000_M104', 1): 4,
                                     (real, '000', 0): 4, (real, '002', 0): 4}
    for record in [r for records in lists.values() for r in records]:
        assert record['mask_path'] is None and (out / record['img_path']).is_file()
    assert lists['test'][0]['img_path'].startswith('end_to_end/DeeperForensics/002_M103/images/')
    assert {r['img_path'].split('/images/')[0] for r in lists['test'] if r['label'] == 0} == {
        'ffpp_c23/original/000', 'ffpp_c23/original/002'}


def test_another_variant_gets_its_own_lists_and_reuses_the_reals(deeper_run, tmp_path):
    deeper, ffpp, out, _ = deeper_run
    copy = tmp_path / 'out'
    shutil.copytree(out, copy)
    report = load_tool('deeperforensics').main(arguments(
        deeper, ffpp, copy, '--variants', 'end_to_end_level_5', '--splits', 'test'))
    assert (report['done'], report['skipped'], report['not_in_download']) == (1, 2, 1)
    assert report['missing_sources'] == [
        str(deeper / 'manipulated_videos' / 'end_to_end_level_5' / '000_M104.mp4')]
    records = read_jsonl(copy / 'annotations' / 'deeperforensics_end_to_end_level_5_test.jsonl')
    assert videos(records) == {('DeeperForensics', '002_M103', 1): 4, ('original', '000', 0): 4,
                               ('original', '002', 0): 4}
    assert (copy / 'annotations' / 'deeperforensics_test.jsonl').read_text() == (
        out / 'annotations' / 'deeperforensics_test.jsonl').read_text()


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file()}


def test_malformed_split_list_is_one_line_and_keeps_what_was_converted(deeper_run, tmp_path):
    deeper, ffpp, out, _ = deeper_run
    bad_deeper, bad_out = tmp_path / 'deeper', tmp_path / 'out'
    shutil.copytree(deeper, bad_deeper)
    shutil.copytree(out, bad_out)
    before = snapshot(bad_out)
    assert 'annotations/deeperforensics_test.jsonl' in before and len(before) > 30
    test_list = bad_deeper / 'lists' / 'splits' / 'test.txt'
    test_list.write_text('002_M103.mp4\n000-M104 copy.mp4\n')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(TOOLS / 'deeperforensics.py'),
                           *arguments(bad_deeper, ffpp, bad_out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines() == [
        f"deeperforensics.py: {test_list} line 2: '000-M104 copy.mp4' is not a manipulated "
        "video name <target>_<actor>.mp4 (e.g. 000_M101.mp4); restore the file from the "
        "dataset's lists/splits/"]
    assert snapshot(bad_out) == before


@pytest.mark.parametrize('lists, message', [
    ({'val': '001_W102.mp4\n\nM101_000.mp4\n'}, "val.txt line 3: 'M101_000.mp4' is not"),
    ({'train': '000_M101.avi\n'}, "train.txt line 1: '000_M101.avi' is not"),
    ({'train': '000_M101.mp4\n001_W102.mp4\n'},
     '{root}/lists/splits/val.txt line 1: 001_W102 is also in '
     '{root}/lists/splits/train.txt line 2; a video is in one split'),
    ({'test': '002_M103.mp4\n000_M104.mp4\n002_M103\n'},
     'test.txt line 3: 002_M103 is listed again (first on line 1)'),
    ({'test': None}, 'split list {root}/lists/splits/test.txt cannot be read'),
    ({'train': '', 'val': '\n', 'test': ''}, 'name no video'),
])
def test_bad_lists_stop_before_any_video(tmp_path, lists, message):
    deeper, ffpp = tmp_path / 'deeper', tmp_path / 'ffpp'
    (ffpp / 'original_sequences' / 'youtube' / 'c23' / 'videos').mkdir(parents=True)
    (deeper / 'manipulated_videos' / 'end_to_end').mkdir(parents=True)
    (deeper / 'lists' / 'splits').mkdir(parents=True)
    for split, names in {**{s: ''.join(f'{n}\n' for n in v) for s, v in LISTS.items()},
                         **lists}.items():
        if names is not None:
            (deeper / 'lists' / 'splits' / f'{split}.txt').write_text(names)
    with pytest.raises(ConverterError) as err:
        load_tool('deeperforensics').main(arguments(deeper, ffpp, tmp_path / 'out'))
    assert message.format(root=deeper) in str(err.value)
    assert '\n' not in str(err.value)
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('more, message', [
    (['--variants', 'end_to_end_level_2'], 'manipulated_videos/end_to_end_level_2: pass the '
     'dataset root (has manipulated_videos/ and lists/) and a --variants it has (end_to_end)'),
    (['--ffpp-compression', 'c40'], 'original_sequences/youtube/c40/videos: --ffpp-root must'),
])
def test_missing_download_folders_are_named(tmp_path, more, message):
    deeper, ffpp = tmp_path / 'deeper', tmp_path / 'ffpp'
    (ffpp / 'original_sequences' / 'youtube' / 'c23' / 'videos').mkdir(parents=True)
    (deeper / 'manipulated_videos' / 'end_to_end').mkdir(parents=True)
    with pytest.raises(ConverterError) as err:
        load_tool('deeperforensics').main(arguments(deeper, ffpp, tmp_path / 'out', *more))
    assert message in str(err.value)
    assert not (tmp_path / 'out').exists()


def test_a_copy_of_the_converter_runs_from_another_folder(tmp_path):
    copy = tmp_path / 'dataset_converters'
    shutil.copytree(TOOLS, copy, ignore=shutil.ignore_patterns('__pycache__'))
    proc = subprocess.run([sys.executable, str(copy / 'deeperforensics.py'), '--help'],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith('usage: deeperforensics.py') and '--ffpp-root' in proc.stdout
