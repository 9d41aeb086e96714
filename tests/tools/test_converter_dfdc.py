"""dfdc.py on a small tree in the DFDC layout: the official test set (labels.csv) and two
training parts (metadata.json), a video with two people, and malformed lists."""
import json
import shutil

import pytest

from tests.helpers.converter_videos import (
    fake_frames,
    load_tool,
    read_jsonl,
    real_frames,
    write_h264,
)
from tests.helpers.two_people import write_two_people_video

ARGS = ['--num-frames', '4']


@pytest.fixture(scope='module')
def dfdc_tree(tmp_path_factory):
    """test/: a real, a fake (two people) and a listed but missing video; train/: part 0
    with a real video and its fake, part 1 with a fake not in the download."""
    root = tmp_path_factory.mktemp('DFDC')
    test = root / 'test'
    write_h264(test / 'videos' / 'aaqaifqrwn.mp4', real_frames(), 23)
    write_two_people_video(test / 'videos' / 'abhggqdift.mp4')
    (test / 'labels.csv').write_text(
        'filename,label\naaqaifqrwn.mp4,0\nabhggqdift.mp4,1\nmissing.mp4,1\n')
    part0, part1 = root / 'train' / 'dfdc_train_part_0', root / 'train' / 'dfdc_train_part_1'
    write_h264(part0 / 'owxbbpjpch.mp4', real_frames(), 23)
    write_h264(part0 / 'wynotylpnm.mp4', fake_frames(), 23)
    (part0 / 'metadata.json').write_text(json.dumps({
        'owxbbpjpch.mp4': {'label': 'REAL', 'split': 'train', 'original': None},
        'wynotylpnm.mp4': {'label': 'FAKE', 'split': 'train', 'original': 'owxbbpjpch.mp4'}}))
    part1.mkdir()
    (part1 / 'metadata.json').write_text(json.dumps({
        'gone.mp4': {'label': 'FAKE', 'split': 'train', 'original': 'owxbbpjpch.mp4'}}))
    return root


@pytest.fixture(scope='module')
def dfdc_run(dfdc_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp('dfdc_out')
    report = load_tool('dfdc').main([str(dfdc_tree), str(out), '--splits', 'test', 'train',
                                     *ARGS])
    return out, report


def test_test_set_and_training_parts_convert_to_their_lists(dfdc_run):
    out, report = dfdc_run
    assert (report['done'], report['failed'], report['not_in_download']) == (4, 0, 2)
    test = read_jsonl(out / 'annotations' / 'dfdc_test.jsonl')
    assert sorted({(r['method'], r['video_id'], r['label']) for r in test}) == [
        ('DFDC', 'abhggqdift', 1), ('original', 'aaqaifqrwn', 0)]
    assert len(test) == 8 and all(r['mask_path'] is None for r in test)
    assert {r['img_path'].split('/images/')[0] for r in test} == {
        'test/original/aaqaifqrwn', 'test/DFDC/abhggqdift'}
    assert 'person' not in test[0]  # one person per video by default
    train = read_jsonl(out / 'annotations' / 'dfdc_train.jsonl')
    assert sorted({(r['method'], r['video_id'], r['label']) for r in train}) == [
        ('DFDC', 'wynotylpnm', 1), ('original', 'owxbbpjpch', 0)]
    assert len(train) == 8 and train[0]['img_path'].startswith('train/')
    assert report['annotations']['test']['videos_listed'] == 3
    assert report['annotations']['train']['videos_listed'] == 3
    assert sorted(p.split('/')[-1] for p in report['missing_sources']) == [
        'gone.mp4', 'missing.mp4']


def test_every_person_of_the_two_person_fake_keeps_its_video_id(dfdc_tree, tmp_path):
    """--faces all: each of the two people has its crops; their records share the video's
    id and label, so the video score pools both."""
    report = load_tool('dfdc').main([str(dfdc_tree), str(tmp_path), *ARGS, '--faces', 'all'])
    assert (report['done'], report['failed']) == (2, 0)
    test = read_jsonl(tmp_path / 'annotations' / 'dfdc_test.jsonl')
    two = [r for r in test if r['video_id'] == 'abhggqdift']
    assert sorted((r['frame'], r['person']) for r in two) == [
        (frame, person) for frame in (1, 4, 7, 10) for person in (0, 1)]
    assert {(r['label'], r['method']) for r in two} == {(1, 'DFDC')}
    assert {r['person'] for r in test if r['video_id'] == 'aaqaifqrwn'} == {0}
    assert two[1]['img_path'] == 'test/DFDC/abhggqdift/images/0001_p1.png'
    assert (tmp_path / two[1]['img_path']).is_file()


BAD_LISTS = [
    ('test/labels.csv', 'filename,label\naaqaifqrwn.mp4,0\nabhggqdift.mp4,FAKE\n',
     "{path} line 3: label must be 0 (real) or 1 (fake), got 'FAKE'"),
    ('test/labels.csv', 'name,label\naaqaifqrwn.mp4,0\n',
     '{path} line 1: expected the header filename,label, got name,label'),
    ('test/labels.csv', 'filename,label\naaqaifqrwn.mp4,0\naaqaifqrwn.mp4,0\n',
     '{path} line 3: aaqaifqrwn.mp4 is listed twice'),
    ('train/dfdc_train_part_0/metadata.json', '{"owxbbpjpch.mp4": {"label": "REAL"},\n}',
     '{path} line 2 column 1: not valid JSON (Expecting property name enclosed in double '
     'quotes); download the file again'),
    ('train/dfdc_train_part_1/metadata.json', '{"gone.mp4": {"label": "fake"}}',
     '{path} key \'gone.mp4\': expected an object with "label" "REAL" or "FAKE", got '
     '{"label": "fake"}'),
    ('train/dfdc_train_part_1/metadata.json', '["gone.mp4"]',
     '{path}: expected a JSON object of videos, got list'),
]


@pytest.mark.parametrize('name, text, message', BAD_LISTS)
def test_a_malformed_list_is_one_line_and_keeps_what_was_converted(dfdc_tree, dfdc_run,
                                                                   tmp_path, name, text,
                                                                   message):
    """Run once good (dfdc_run), corrupt one list, rerun: exit 1 with one line naming the
    file and line or key; the crops and lists converted before are untouched."""
    from converter_setup import run_converter
    out, _ = dfdc_run
    tree = tmp_path / 'DFDC'
    shutil.copytree(dfdc_tree, tree)
    (tree / name).write_text(text)
    before = {p: p.read_bytes() for p in out.rglob('*') if p.is_file()}
    with pytest.raises(SystemExit) as stop:
        run_converter(load_tool('dfdc').main, 'dfdc.py',
                      [str(tree), str(out), '--splits', 'test', 'train', *ARGS])
    assert stop.value.code == 'dfdc.py: ' + message.replace('{path}', str(tree / name))
    assert {p: p.read_bytes() for p in out.rglob('*') if p.is_file()} == before
    assert len(read_jsonl(out / 'annotations' / 'dfdc_test.jsonl')) == 8


def test_missing_labels_or_parts_are_one_line(tmp_path):
    from converter_setup import run_converter
    (tmp_path / 'DFDC').mkdir()
    for splits, message in (
            (['test'], f'{tmp_path / "DFDC/test/labels.csv"} does not exist: the DFDC test '
                       'set comes with labels.csv (filename,label) in its test/ folder'),
            (['train'], f'no training part under {tmp_path / "DFDC"}: expected '
                        'train/dfdc_train_part_<n>/metadata.json (or dfdc_train_part_<n>/)')):
        with pytest.raises(SystemExit) as stop:
            run_converter(load_tool('dfdc').main, 'dfdc.py',
                          [str(tmp_path / 'DFDC'), str(tmp_path / 'out'), '--splits', *splits])
        assert stop.value.code == 'dfdc.py: ' + message
