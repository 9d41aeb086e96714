"""Annotation lists: exact labels, videos by folder, duplicates, hostile records.

Each case is a list a user could write by hand; the expectations are written here.
"""
import json

import pytest

from dadf_mm.datasets import FMLDDataset, ForgeryFolderDataset, read_annotations
from dadf_mm.datasets.errors import AnnotationError, ForgeryDataError, MissingDataFileError
from dadf_mm.evaluation.functional.detection import aggregate_videos


def write_jsonl(path, lines):
    """Writes the given lines as they are (objects are dumped, strings kept verbatim)."""
    path.write_text(''.join((v if isinstance(v, str) else json.dumps(v)) + '\n' for v in lines))
    return str(path)


# --- case 2: a label is exactly 0 or 1 -------------------------------------------------
@pytest.mark.parametrize('value, expected', [
    (0, 0), (1, 1), (True, 1), (False, 0), ('0', 0), ('1', 1), (' 1 ', 1), ('fake', 1),
    ('REAL', 0), ('True', 1), ('false', 0)])
def test_accepted_labels(tmp_path, value, expected):
    path = write_jsonl(tmp_path / 'l.jsonl', [dict(img_path='v/a.png', label=value)])
    assert read_annotations(path)[0]['label'] == expected


@pytest.mark.parametrize('value', [0.9, 1.0, 0.0, 2, -1, 'yes', '0.9', '1.0', 'fake!', [1],
                                   {'v': 1}])
def test_other_labels_are_errors_naming_file_and_line(tmp_path, value):
    path = write_jsonl(tmp_path / 'l.jsonl', [dict(img_path='v/a.png', label=1),
                                             dict(img_path='v/b.png', label=value)])
    with pytest.raises(AnnotationError, match=r'l\.jsonl, line 2: label must be exactly 0 '
                       r'\(real\) or 1 \(fake\), got .*write 0 \(real\) or 1 \(fake\)'):
        read_annotations(path)


def test_float_label_in_csv_and_json(tmp_path):
    (tmp_path / 'l.csv').write_text('img_path,label\nv/a.png,1\nv/b.png,0.9\n')
    with pytest.raises(AnnotationError, match=r"l\.csv, line 3: label .* got '0\.9'"):
        ForgeryFolderDataset(ann_file=str(tmp_path / 'l.csv'))
    (tmp_path / 'l.json').write_text(json.dumps([dict(img_path='a.png', label=0.9)]))
    with pytest.raises(AnnotationError, match=r'l\.json, item \[0\]: label .* got 0\.9'):
        ForgeryFolderDataset(ann_file=str(tmp_path / 'l.json'))


# --- case 3: without video_id, a video is the image (or, asked for, its folder) -----------
def test_frames_of_two_folders_are_two_videos(tmp_path):
    records = [dict(img_path=f'{v}/{k:04d}.png', label=1, method='Deepfakes')
               for v in ('v1', 'v2') for k in range(3)]
    records.append(dict(img_path='still.png', label=0))
    records.append(dict(img_path='c23/original/071/images/0001.png', label=0))
    path = write_jsonl(tmp_path / 'l.jsonl', records)
    # by default each image is its own video
    assert [r['video_id'] for r in read_annotations(path)] == [r['img_path'] for r in records]
    assert {r['video_id_source'] for r in read_annotations(path)} == {'image'}
    by_folder = read_annotations(path, 'folder')
    videos = [r['video_id'] for r in by_folder]
    assert videos == ['v1'] * 3 + ['v2'] * 3 + ['.', 'c23/original/071/images']
    assert {r['video_id_source'] for r in by_folder} == {'folder'}
    # the metric's video grouping (method, video_id) then sees two fake videos, not one
    keys = [(r['method'], r['video_id']) for r in by_folder][:6]
    grouped, scores, labels = aggregate_videos([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [1] * 6, keys)
    assert grouped == [('Deepfakes', 'v1'), ('Deepfakes', 'v2')]
    assert scores.tolist() == pytest.approx([0.2, 0.8])
    # an explicit video_id wins; still images (FMLD) are each their own video
    path = write_jsonl(tmp_path / 'fmld_test.jsonl', [
        dict(img_path='v1/0000.png', label=1), dict(img_path='v2/0000.png', label=1),
        dict(img_path='v2/0001.png', label=1, video_id='clip')])
    fmld = FMLDDataset(split='test', data_root=str(tmp_path), ann_file=path)
    assert [d['video_id'] for d in fmld.load_data_list()] == [
        'v1/0000.png', 'v2/0000.png', 'clip']
    assert [d['video_id_source'] for d in fmld.load_data_list()] == [
        'image', 'image', 'video_id']
    folder = ForgeryFolderDataset(ann_file=path)
    assert [d['video_id'] for d in folder.load_data_list()] == [
        'v1/0000.png', 'v2/0000.png', 'clip']
    folder = ForgeryFolderDataset(ann_file=path, video_id_from='folder')
    assert [d['video_id'] for d in folder.load_data_list()] == ['v1', 'v2', 'clip']


def test_one_video_with_two_labels_names_both_lines(tmp_path):
    path = write_jsonl(tmp_path / 'l.jsonl', [
        dict(img_path='v1/0000.png', label=1, method='GAN'),
        dict(img_path='v2/0000.png', label=1, method='GAN'),
        dict(img_path='v1/0001.png', label=0, method='GAN')])
    with pytest.raises(AnnotationError, match=r"l\.jsonl, line 1 and line 3: one video "
                       r"\(method 'GAN', video_id 'v1'\) is labelled 1 and 0"):
        read_annotations(path, 'folder')


# --- case 6: a repeated record is an error naming both lines -----------------------------
def test_duplicate_records_name_both_lines(tmp_path):
    path = write_jsonl(tmp_path / 'l.jsonl', [
        dict(img_path='v/a.png', label=1), dict(img_path='v/b.png', label=1),
        dict(img_path='v/./a.png', label=1)])
    with pytest.raises(AnnotationError, match=r"l\.jsonl, line 1 and line 3: img_path "
                       r"'v/\./a\.png' is listed twice"):
        ForgeryFolderDataset(ann_file=path)
    (tmp_path / 'l.csv').write_text('img_path,label\na.png,0\n\nb.png,0\na.png,0\n')
    with pytest.raises(AnnotationError, match=r'l\.csv, line 2 and line 5: .*listed twice'):
        read_annotations(str(tmp_path / 'l.csv'))
    (tmp_path / 'l.json').write_text(json.dumps([dict(img_path='a.png', label=0)] * 2))
    with pytest.raises(AnnotationError, match=r'l\.json, item \[0\] and item \[1\]'):
        read_annotations(str(tmp_path / 'l.json'))
    # one image under two methods is two samples (as a config test's stand-in list does)
    path = write_jsonl(tmp_path / 'two.jsonl', [
        dict(img_path='a.png', label=1, method='Deepfakes', video_id='x'),
        dict(img_path='a.png', label=1, method='FaceSwap', video_id='x')])
    assert len(read_annotations(path)) == 2


# --- case 11: hostile records --------------------------------------------------------------
@pytest.mark.parametrize('line, message', [
    ('null', r'line 2: a record must be an object .* got NoneType'),
    ('[1, 2]', r'line 2: a record must be an object .* got list'),
    ('"a.png"', r'line 2: a record must be an object .* got str'),
    ('{"img_path": 5, "label": 1}', r'line 2: img_path must be a path string, got int 5'),
    ('{"img_path": "a.png", "mask_path": [], "label": 1}', r'line 2: mask_path must be a path'),
    ('{"img_path": "a\\u0000.png", "label": 1}', r'line 2: img_path .* NUL character'),
    ('{"img_path": "a.png", "label": 1, "video_id": 1.5}', r'line 2: video_id must be a str'),
    ('{"img_path": "a.png", "label": 1, "method": 3}', r'line 2: method must be a string'),
    ('{"img_path": "a.png"', r'line 2: not JSON'),
    ('{"label": 1}', r"line 2: missing 'img_path'"),
])
def test_hostile_jsonl_lines(tmp_path, line, message):
    path = write_jsonl(tmp_path / 'h.jsonl', ['{"img_path": "v/ok.png", "label": 0}', line])
    with pytest.raises(AnnotationError, match=r'h\.jsonl, ' + message):
        ForgeryFolderDataset(ann_file=path)


def test_csv_with_a_byte_order_mark_reads(tmp_path):
    (tmp_path / 'bom.csv').write_bytes('\ufeffimg_path,label,video_id\r\nv/a.png,fake,7\r\n'
                                       .encode('utf-8'))
    (record, ) = read_annotations(str(tmp_path / 'bom.csv'))
    assert (record['img_path'], record['label'], record['video_id']) == ('v/a.png', 1, '7')
    (tmp_path / 'bom.jsonl').write_bytes(b'\xef\xbb\xbf{"img_path": "a.png", "label": 0}\n')
    assert read_annotations(str(tmp_path / 'bom.jsonl'))[0]['label'] == 0


@pytest.mark.parametrize('name, content, message', [
    ('a.csv', b'path,label\na.png,0\n', r"a\.csv, line 1: the CSV header .* no column img_path"),
    ('a.csv', b'img_path,label,label\na.png,0,1\n', r'line 1: .*repeats column'),
    ('a.csv', b'img_path,label\na.png,0,extra\n', r'line 2: 3 fields but the header has 2'),
    ('a.csv', b'img_path,label\na.png\n', r'line 2: 1 fields but the header has 2'),
    ('a.csv', b'img_path,label\n"a.png,0\n', r'a\.csv, line \d+: (not valid CSV|1 fields)'),
    ('a.csv', b'img_path,label\na\x00.png,0\n', r'a\.csv, line 2: (not valid CSV|img_path)'),
    ('a.jsonl', b'{"img_path": "a.png", "label": 0}\n\xff\xfe\n', r'a\.jsonl, line 2: not UTF-8'),
    ('a.json', b'[{"img_path": "a.png",\n "label": }]', r'a\.json, line 2: not JSON'),
    ('a.json', b'', r'a\.json: a \.json annotation file must hold a list'),
    ('a.json', b'{"img_path": "a.png", "label": 0}', r'a\.json: .* must hold a list'),
    ('a.json', b'[' * 100000, r'a\.json: not (usable )?JSON'),
    ('a.txt', b'img_path,label\n', r'a\.txt: annotation files are \.jsonl, \.json or \.csv'),
])
def test_malformed_files_name_file_and_line(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(AnnotationError, match=message):
        read_annotations(str(tmp_path / name))


def test_missing_list_and_a_folder_given_as_list(tmp_path):
    with pytest.raises(MissingDataFileError, match=r'nope\.jsonl does not exist'):
        read_annotations(str(tmp_path / 'nope.jsonl'))
    (tmp_path / 'dir.jsonl').mkdir()
    with pytest.raises(ForgeryDataError, match=r'dir\.jsonl: is not a file'):
        ForgeryFolderDataset(ann_file=str(tmp_path / 'dir.jsonl'))
    assert issubclass(MissingDataFileError, FileNotFoundError)  # older callers still catch it
