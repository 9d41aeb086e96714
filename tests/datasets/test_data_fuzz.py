"""Fuzzing the annotation parser and the image / mask loaders (fixed seeds, bounded cases).

Every outcome must be a valid sample (or record) or the project's own error type whose
message names the file; any other exception, or a wrong record, fails the test.
"""
import io
import json
import random
import string
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from dadf_mm.datasets import ForgeryFolderDataset, read_annotations, write_annotations
from dadf_mm.datasets.errors import AnnotationError, ForgeryDataError

FIELDS = ('img_path', 'mask_path', 'label', 'method', 'video_id', 'frame')
# (label, its value) pairs, not a dict: True == 1 and False == 0 would share a dict key
ACCEPTED_LABELS = [(0, 0), (1, 1), (True, 1), (False, 0), ('0', 0), ('1', 1), ('real', 0),
                   ('fake', 1), ('true', 1), ('false', 0), ('FAKE', 1), (' Real ', 0),
                   ('TRUE', 1)]


def accepted_value(label):
    """The value of an accepted label (its type must match too: 1.0 is not 1), else None."""
    return next((value for known, value in ACCEPTED_LABELS
                 if type(known) is type(label) and known == label), None)
PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]


def random_text(rng, n=8):
    alphabet = string.printable + '\x00\u00e9\u2028\ufeff"\\,'
    return ''.join(rng.choice(alphabet) for _ in range(rng.randint(0, n)))


def random_value(rng, depth=0):
    kind = rng.randrange(8 if depth < 2 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, 2, -1, 10**30, rng.randint(-5, 5)])
    if kind == 3:
        return rng.choice([0.0, 1.0, 0.9, 0.5, -0.0, 1e308, float('nan')])
    if kind == 4:
        return rng.choice([random_text(rng), 'a.png', 'v1/0000.png', 'fake', '1', ''])
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(FIELDS + ('x', '')): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 5))}


def check_records(path, records):
    """The invariants of a list that was accepted."""
    seen = set()
    for r in records:
        assert isinstance(r['img_path'], str) and r['img_path'].strip(), (path, r)
        assert '\x00' not in r['img_path']
        assert r['label'] in (0, 1) and type(r['label']) is int
        assert r['mask_path'] is None or isinstance(r['mask_path'], str)
        assert isinstance(r['method'], str) and isinstance(r['video_id'], str)
        key = (r['img_path'], r['method'])
        assert key not in seen
        seen.add(key)


def outcome(path):
    """Reads ``path``; returns the records, or None after checking the error names it."""
    try:
        records = read_annotations(str(path))
    except AnnotationError as err:
        message = str(err)
        assert message.startswith(str(path)) and '\n' not in message, message
        return None
    check_records(path, records)
    return records


def test_fuzz_annotation_files(tmp_path):
    rng = random.Random(20240601)
    accepted = 0
    for case in range(240):
        ext = ('.jsonl', '.json', '.csv')[case % 3]
        path = tmp_path / f'case{case}{ext}'
        style = case // 3 % 4
        if style == 0:  # random bytes
            path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 120))))
        elif ext == '.csv':  # random header and cells, quotes, newlines, BOM
            header = rng.sample(FIELDS + ('x', ' label'), rng.randint(1, 5))
            rows = [[random_text(rng, 6) if rng.random() < 0.5 else
                     str(random_value(rng, 2)) for _ in header] for _ in range(rng.randint(0, 4))]
            with open(path, 'w', encoding='utf-8', newline='') as f:
                if style == 1:
                    f.write('\ufeff')
                f.write(','.join(header) + '\n')
                for row in rows:
                    f.write(','.join(row) + rng.choice(['\n', '\r\n']))
        else:  # random JSON values, some of them records
            values = [random_value(rng) for _ in range(rng.randint(0, 4))]
            text = (json.dumps(values) if ext == '.json' else
                    ''.join(json.dumps(v) + '\n' for v in values))
            path.write_text(text, encoding='utf-8')
        accepted += outcome(path) is not None
    assert 10 < accepted < 200  # both outcomes happened


def test_fuzz_labels_against_the_accepted_set(tmp_path):
    """One valid record with a random label: accepted exactly when the label is listed."""
    rng = random.Random(7)
    candidates = [label for label, _ in ACCEPTED_LABELS] + [
        2, -1, 0.9, 1.0, 0.0, 'yes', 'f', '01', '1.0', None, '', [], {}, 'truee', 'nan']
    for case in range(60):
        label = candidates[case] if case < len(candidates) else rng.choice(candidates)
        path = tmp_path / f'l{case}.jsonl'
        path.write_text(json.dumps(dict(img_path='v/a.png', label=label)) + '\n')
        records = outcome(path)
        expected = accepted_value(label)
        if expected is not None:
            assert records[0]['label'] == expected, label
        else:
            assert records is None, label


def png_claiming(width, height):
    """A PNG header for a width x height grey image with almost no data (a decompression
    bomb's shape): decoders must refuse it without allocating it."""
    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack(
            '>I', zlib.crc32(tag + data))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
            chunk(b'IDAT', zlib.compress(b'\x00' * 64)) + chunk(b'IEND', b''))


def encoded(rng, shape, ext, dtype=np.uint8):
    top = 65535 if dtype == np.uint16 else 255
    array = rng.integers(0, top, shape, dtype=dtype, endpoint=True)
    ok, data = cv2.imencode(ext, array)
    assert ok
    return data.tobytes()


def mask_bytes(rng, height, width, mode):
    """A 0/255 mask as a PNG in PIL ``mode`` (grey, grey + alpha, colour, palette, ...)."""
    grey = np.where(rng.random((height, width)) < 0.3, 255, 0).astype(np.uint8)
    image = Image.fromarray(grey)
    buffer = io.BytesIO()
    (image if mode == 'L' else image.convert(mode)).save(buffer, format='PNG')
    return buffer.getvalue()


def image_cases(rng):
    """(image bytes, mask bytes or None, label, expected: 'ok' | 'image' | 'mask' | 'any')."""
    cases = []
    for _ in range(10):  # odd and tiny sizes, grey / colour / 16-bit, PNG / JPEG / BMP
        h, w = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        shape = [(h, w), (h, w, 3), (h, w, 4)][int(rng.integers(3))]
        dtype = np.uint16 if rng.random() < 0.2 else np.uint8
        ext = '.png' if dtype == np.uint16 else rng.choice(['.png', '.jpg', '.bmp'])
        mode = rng.choice(['L', 'LA', 'RGB', 'RGBA', 'P', '1', 'I;16'])
        mask = mask_bytes(rng, h, w, mode) if rng.random() < 0.7 else None
        cases.append((encoded(rng, shape, ext, dtype), mask, 1, 'ok'))
    for _ in range(5):  # a mask of the wrong size
        h, w = int(rng.integers(2, 60)), int(rng.integers(2, 60))
        cases.append((encoded(rng, (h, w, 3), '.png'), mask_bytes(rng, h + 1, w, 'L'), 1,
                      'mask'))
    for _ in range(6):  # random bytes as image or as mask
        junk = rng.bytes(int(rng.integers(0, 200)))
        cases.append((junk, None, 0, 'image'))
        cases.append((encoded(rng, (5, 7, 3), '.png'), junk, 1, 'mask'))
    for ext in ('.png', '.jpg', '.bmp'):  # cut-off files: decoded in part, or refused
        data = encoded(rng, (40, 30, 3), ext)
        cases.append((data[:int(rng.integers(1, len(data)))], None, 0, 'any'))
    cases.append((png_claiming(100000, 100000), None, 0, 'image'))
    cases.append((encoded(rng, (4, 4, 3), '.png'), png_claiming(100000, 100000), 1, 'mask'))
    zeros = cv2.imencode('.png', np.zeros((2000, 3000, 3), np.uint8))[1].tobytes()
    cases.append((zeros, None, 0, 'ok'))  # a large image
    return cases


def test_fuzz_image_and_mask_files(tmp_path):
    rng = np.random.default_rng(11)
    cases, records = image_cases(rng), []
    for k, (image, mask, label, _) in enumerate(cases):
        (tmp_path / f'c{k}').mkdir()
        (tmp_path / f'c{k}' / 'img.png').write_bytes(image)
        records.append(dict(img_path=f'c{k}/img.png', label=label))
        if mask is not None:
            (tmp_path / f'c{k}' / 'mask.png').write_bytes(mask)
            records[-1]['mask_path'] = f'c{k}/mask.png'
    write_annotations(str(tmp_path / 'l.jsonl'), records)
    dataset = ForgeryFolderDataset(ann_file=str(tmp_path / 'l.jsonl'), data_root=str(tmp_path),
                                   pipeline=PIPELINE)
    for k, (_, mask, label, expected) in enumerate(cases):
        try:
            sample = dataset[k]
        except ForgeryDataError as err:
            message = str(err)
            assert expected != 'ok', (k, message)
            named = {'image': 'img.png', 'mask': 'mask.png'}.get(expected, 'img.png')
            assert str(tmp_path / f'c{k}' / named) in message and '\n' not in message, (k,
                                                                                       message)
            continue
        assert expected in ('ok', 'any'), (k, expected)
        inputs, gt = sample['inputs'], sample['data_samples'].gt_sem_seg.data
        assert inputs.shape[0] == 3 and gt.shape == (1, ) + tuple(inputs.shape[1:])
        values = set(gt.unique().tolist())
        assert values <= {0, 1, 255}
        if mask is None:
            assert values == ({255} if label else {0})


@pytest.mark.parametrize('mode', ['L', 'LA', 'RGB', 'RGBA', 'P', '1', 'I;16'])
def test_every_mask_mode_reads_its_forged_pixels(tmp_path, mode):
    """The fuzz's mask modes, checked against the grey mask they were made from."""
    rng = np.random.default_rng(3)
    grey = np.where(rng.random((9, 13)) < 0.3, 255, 0).astype(np.uint8)
    image = Image.fromarray(grey)
    (image if mode == 'L' else image.convert(mode)).save(tmp_path / 'mask.png')
    cv2.imwrite(str(tmp_path / 'img.png'), np.zeros((9, 13, 3), np.uint8))
    write_annotations(str(tmp_path / 'l.jsonl'),
                      [dict(img_path='img.png', mask_path='mask.png', label=1)])
    dataset = ForgeryFolderDataset(ann_file=str(tmp_path / 'l.jsonl'), data_root=str(tmp_path),
                                   pipeline=PIPELINE)
    gt = dataset[0]['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, grey // 255)
