"""dfdcp.py on a small tree in the DFDC-Preview layout (dataset.json, original_videos/,
method_A/, method_B/), and malformed dataset.json files."""
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

ARGS = ['--num-frames', '4']
VIDEOS = {  # key -> (label, set, frames); the last two are listed but not downloaded
    'original_videos/1003254/1003254_A_001.mp4': ('real', 'test', real_frames),
    'method_A/1003254/1003254_A/1255229_1003254_A_001.mp4': ('fake', 'test', fake_frames),
    'original_videos/1255229/1255229_B_002.mp4': ('real', 'train', real_frames),
    'method_B/1255229/1255229_B/1003254_1255229_B_002.mp4': ('fake', 'train', fake_frames),
    'method_A/2000001/2000001_A/clip.mp4': ('fake', 'test', None),
    'method_A/2000002/2000002_A/clip.mp4': ('fake', 'test', None),
}


@pytest.fixture(scope='module')
def dfdcp_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('dfdc_preview_set')
    for key, (_, _, frames) in VIDEOS.items():
        if frames is not None:
            write_h264(root / key, frames(), 23)
    (root / 'dataset.json').write_text(json.dumps({
        key: {'label': label, 'set': split, 'augmented': False, 'target_id': key.split('/')[1]}
        for key, (label, split, _) in VIDEOS.items()}, indent=1))
    return root


@pytest.fixture(scope='module')
def dfdcp_run(dfdcp_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp('dfdcp_out')
    report = load_tool('dfdcp').main([str(dfdcp_tree), str(out), '--splits', 'train', 'test',
                                      *ARGS])
    return out, report


def videos(records):
    return sorted({(r['method'], r['video_id'], r['label']) for r in records})


def test_sets_methods_and_labels(dfdcp_run):
    out, report = dfdcp_run
    assert (report['done'], report['failed'], report['not_in_download']) == (4, 0, 2)
    test = read_jsonl(out / 'annotations' / 'dfdcp_test.jsonl')
    assert videos(test) == [('method_A', '1255229_1003254_A_001', 1),
                            ('original', '1003254_A_001', 0)]
    assert len(test) == 8 and all(r['mask_path'] is None for r in test)
    assert {r['img_path'].split('/images/')[0] for r in test} == {
        'test/original/1003254_A_001', 'test/method_A/1255229_1003254_A_001'}
    train = read_jsonl(out / 'annotations' / 'dfdcp_train.jsonl')
    assert videos(train) == [('method_B', '1003254_1255229_B_002', 1),
                             ('original', '1255229_B_002', 0)]
    assert len(train) == 8
    assert report['annotations']['test']['videos_listed'] == 4


def test_video_ids_shared_by_two_files_take_their_paths(dfdcp_tree):
    jobs = load_tool('dfdcp').dfdcp_jobs(str(dfdcp_tree))
    assert sorted(j.video_id for j in jobs['test'] if j.method == 'method_A') == [
        '1255229_1003254_A_001', '2000001_2000001_A_clip', '2000002_2000002_A_clip']
    assert str(jobs['test'][0].source).startswith(str(dfdcp_tree))


KEY = 'original_videos/1003254/1003254_A_001.mp4'
BAD_LISTS = [
    ('{"a.mp4": {"label": "real", "set": "test"}\n\n"b": 1}',
     '{path} line 3 column 1: not valid JSON (Expecting \',\' delimiter); download the file '
     'again'),
    (json.dumps({KEY: {'label': 'REAL', 'set': 'test'}}),
     f'{{path}} key {KEY!r}: "label" must be "real" or "fake", got "REAL"'),
    (json.dumps({KEY: {'label': 'real', 'set': 'val'}}),
     f'{{path}} key {KEY!r}: "set" must be "train" or "test", got "val"'),
    (json.dumps({KEY: {'label': 'real'}}),
     f'{{path}} key {KEY!r}: "set" must be "train" or "test", got null'),
    (json.dumps({'/etc/x.mp4': {'label': 'real', 'set': 'test'}}),
     "{path} key '/etc/x.mp4': expected a video path inside the download, e.g. "
     'method_A/<id>/<id>_A/<name>.mp4'),
    (json.dumps({KEY: 'real'}),
     f'{{path}} key {KEY!r}: expected an object with "label" and "set", got "real"'),
]


@pytest.mark.parametrize('text, message', BAD_LISTS)
def test_a_malformed_dataset_json_is_one_line_and_keeps_what_was_converted(
        dfdcp_tree, dfdcp_run, tmp_path, text, message):
    """Run once good (dfdcp_run), corrupt dataset.json, rerun: exit 1 with one line naming
    the file and line or key; the crops and lists converted before are untouched."""
    from converter_setup import run_converter
    out, _ = dfdcp_run
    tree = tmp_path / 'dfdc_preview_set'
    shutil.copytree(dfdcp_tree, tree)
    (tree / 'dataset.json').write_text(text)
    before = {p: p.read_bytes() for p in out.rglob('*') if p.is_file()}
    with pytest.raises(SystemExit) as stop:
        run_converter(load_tool('dfdcp').main, 'dfdcp.py',
                      [str(tree), str(out), '--splits', 'train', 'test', *ARGS])
    assert stop.value.code == 'dfdcp.py: ' + message.replace('{path}',
                                                             str(tree / 'dataset.json'))
    assert {p: p.read_bytes() for p in out.rglob('*') if p.is_file()} == before
    assert len(read_jsonl(out / 'annotations' / 'dfdcp_test.jsonl')) == 8


def test_missing_dataset_json_is_one_line(tmp_path):
    from converter_setup import run_converter
    (tmp_path / 'dfdcp').mkdir()
    with pytest.raises(SystemExit) as stop:
        run_converter(load_tool('dfdcp').main, 'dfdcp.py',
                      [str(tmp_path / 'dfdcp'), str(tmp_path / 'out')])
    assert stop.value.code == (f'dfdcp.py: {tmp_path / "dfdcp" / "dataset.json"} does not '
                               'exist; it comes with the download')
