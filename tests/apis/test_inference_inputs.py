"""What tools/infer.py and the inferencer refuse, each in one line naming the argument or the
file, before any work where it can be checked before: wrong arguments (before any model is
built), a checkpoint given as a work dir (accepted), a truncated JPEG (refused as the
dataset refuses it), an image too large to decode (refused from its header), and a model
output that is not a finite number (never written)."""
import json
import shutil
import subprocess
import sys
from unittest import mock

import cv2
import pytest
import torch

from dadf_mm.apis.devices import checked_device
from dadf_mm.apis.image_files import ImageTooLargeError, read_image
from dadf_mm.apis.inference import ForgeryInferencer, NonFiniteOutputError
from dadf_mm.apis.input_pipeline import InputPipeline
from dadf_mm.datasets import LoadForgeryImage
from dadf_mm.datasets.errors import ForgeryDataError
from dadf_mm.models.segmentors.dadf import DADF
from tests.helpers.image_files import huge_png, truncated_jpeg
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.tool_runs import ROOT, tool_exit


def _no_model(*args, **kwargs):
    raise AssertionError('a model was built for arguments that should have been refused')


def _infer_lines(capsys) -> list:
    return [line for line in capsys.readouterr().err.splitlines()
            if line.startswith('infer.py: ')]


@pytest.mark.parametrize('option,value,words', [
    ('--batch-size', '0', "must be a whole number of 1 or more, not '0'"),
    ('--batch-size', 'four', "must be a whole number of 1 or more, not 'four'"),
    ('--num-frames', '0', "must be a whole number of 1 or more, not '0'"),
    ('--num-frames', '-3', "must be a whole number of 1 or more, not '-3'"),
    ('--threshold', 'nan', "must be a number from 0 to 1 (e.g. 0.5), not 'nan'"),
    ('--threshold', 'inf', "must be a number from 0 to 1 (e.g. 0.5), not 'inf'"),
    ('--threshold', '1.5', "must be a number from 0 to 1 (e.g. 0.5), not '1.5'"),
    ('--threshold', '-0.1', "must be a number from 0 to 1 (e.g. 0.5), not '-0.1'"),
    ('--margin', '0', "must be a number above 0, not '0'"),
    ('--max-megapixels', 'nan', "must be a number above 0, not 'nan'"),
    ('--device', 'tpu', "unknown device 'tpu': use 'cpu', 'cuda' or 'cuda:N'"),
])
def test_a_wrong_argument_is_one_line_before_any_model(tmp_path, option, value, words):
    """Was: a traceback (batch size 0: range() step; 0 frames: no frames to score), or a
    NaN threshold that called every face real, exit status 0."""
    cv2.imwrite(str(tmp_path / 'face.png'), face_like(64, 64))
    with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
        message = tool_exit('infer.py', DEMO, tmp_path / 'none.pth', tmp_path / 'face.png',
                            '--out', tmp_path / 'out', option, value)
    assert message == (f'infer.py: argument {option}: {words} '
                       '(see python tools/infer.py --help)')
    assert not (tmp_path / 'out').exists()


def test_a_wrong_detector_is_one_line_before_any_model(demo_checkpoint, tmp_path):
    """Was: a ValueError traceback once the model was built and --out made."""
    cv2.imwrite(str(tmp_path / 'face.png'), face_like(64, 64))
    with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
        message = tool_exit('infer.py', DEMO, demo_checkpoint, tmp_path / 'face.png', '--out',
                            tmp_path / 'out', '--detector', 'no_such_module:detector')
    assert message.startswith("infer.py: cannot import the face detector factory "
                              "'no_such_module:detector': No module named 'no_such_module'")
    assert not (tmp_path / 'out').exists()


def test_a_gpu_this_machine_lacks_is_one_line(tmp_path, monkeypatch):
    """Was: torch's "Torch not compiled with CUDA enabled" / "invalid device ordinal"
    traceback after the model was built."""
    args = [DEMO, tmp_path / 'none.pth', tmp_path, '--out', tmp_path / 'out', '--device']
    monkeypatch.setattr(ForgeryInferencer, '__init__', _no_model)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 0)
    assert tool_exit('infer.py', *args, 'cuda') == (
        "infer.py: argument --device: device 'cuda': this machine has no usable GPU "
        "(torch.cuda.is_available() is False); use 'cpu' (see python tools/infer.py --help)")
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)
    assert tool_exit('infer.py', *args, 'cuda:7') == (
        "infer.py: argument --device: device 'cuda:7': this machine has 1 GPU (cuda:0); use "
        "one of them or 'cpu' (see python tools/infer.py --help)")
    with pytest.raises(ValueError, match="device 'cuda:7': this machine has 1 GPU"):
        checked_device('cuda:7')  # the inferencer's own check
    assert not (tmp_path / 'out').exists()


def test_infer_takes_a_work_dir_as_the_web_page_does(demo_checkpoint, tmp_path):
    """Was: "checkpoint file 'work_dirs/demo' not found"."""
    work = tmp_path / 'work'
    work.mkdir()
    shutil.copy(demo_checkpoint, work / 'iter_3.pth')
    image = tmp_path / 'face.png'
    cv2.imwrite(str(image), face_like(64, 64, seed=3))
    for checkpoint, out in ((demo_checkpoint, 'by_file'), (work, 'by_work_dir')):
        assert tool_exit('infer.py', DEMO, checkpoint, image, '--out', tmp_path / out,
                         '--device', 'cpu') == ''
    by_file, by_dir = (json.loads(open(tmp_path / out / 'predictions.jsonl').read())
                       for out in ('by_file', 'by_work_dir'))
    assert by_dir['fake_probability'] == by_file['fake_probability']
    empty = tmp_path / 'empty_work'
    empty.mkdir()
    message = tool_exit('infer.py', DEMO, empty, image, '--out', tmp_path / 'out')
    assert message.startswith(f"infer.py: no checkpoint in '{empty}' (no best_*.pth")


def test_test_py_takes_a_work_dir(tmp_path):
    """test.py resolves a work dir to its checkpoint (a cut-off one here: the line names
    the file found in the work dir, before any model is built)."""
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'best_AUC_iter_2.pth').write_bytes(b'PK\x03\x04 cut off')
    message = tool_exit('test.py', DEMO, work, '--work-dir', tmp_path / 'logs')
    assert message.startswith('test.py: ') and str(work / 'best_AUC_iter_2.pth') in message
    assert 'truncated or corrupt' in message and 'not found' not in message


def _dataset_message(path) -> str:
    with pytest.raises(ForgeryDataError) as refused:
        LoadForgeryImage()(dict(img_path=str(path)))
    return str(refused.value)


def test_a_truncated_jpeg_is_refused_as_the_dataset_refuses_it(demo_checkpoint, tmp_path,
                                                                capsys):
    """Was: infer.py (cv2.imread) scored the half-grey picture, exit status 0."""
    cut = truncated_jpeg(tmp_path / 'cut.jpg')
    assert cv2.imread(str(cut)) is not None  # OpenCV's file reader decodes it anyway
    expected = _dataset_message(cut)
    assert 'cannot be decoded as an image' in expected and str(cut) in expected
    with pytest.raises(ForgeryDataError) as refused:
        read_image(str(cut))
    assert str(refused.value) == expected
    capsys.readouterr()
    out = tmp_path / 'out'
    assert tool_exit('infer.py', DEMO, demo_checkpoint, cut, '--out', out,
                     '--device', 'cpu') == '1'
    assert _infer_lines(capsys) == [f'infer.py: {expected}']
    records = [json.loads(line) for line in open(out / 'predictions.jsonl')]
    assert records == [dict(input=str(cut), error=expected)]
    assert not list((out / 'overlays').iterdir())
    inferencer = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
    with pytest.raises(ForgeryDataError, match='cannot be decoded as an image'):
        inferencer(str(cut))  # the config's loader: the dataset's


def test_an_image_too_large_is_refused_from_its_header(tmp_path):
    """A 97 KB PNG of 10000x10000 pixels: refused without decoding it (was: decoded, 300 MB
    and seconds per request)."""
    huge = huge_png(tmp_path / 'huge.png')
    with mock.patch.object(LoadForgeryImage, 'transform', side_effect=AssertionError(
            'decoded')), pytest.raises(ImageTooLargeError) as refused:
        read_image(str(huge))
    assert str(refused.value) == (
        f'image {huge} is too large (10000x10000 pixels, 100.0 megapixels; the limit is 40): '
        'shrink it or crop the face (the model sees it at about 1 megapixel), or raise the '
        'limit with --max-megapixels')
    with pytest.raises(ImageTooLargeError, match=r'\(10000x10000 pixels, 100.0 megapixels; '
                       r'the limit is 99\.9\)'):
        read_image(str(huge), max_megapixels=99.9)
    with pytest.raises(ImageTooLargeError, match='100.0 megapixels; the limit is 10'):
        InputPipeline([dict(type='LoadForgeryImage'), dict(type='PackForgeryInputs')],
                      max_megapixels=10)(str(huge))


def test_pillows_own_limit_still_gives_the_size(tmp_path, monkeypatch):
    """Beyond twice Pillow's limit (the web page sets it to its own) Pillow refuses to open
    the header at all; the count it names is compared with the limit."""
    from PIL import Image
    image = tmp_path / 'square.png'
    cv2.imwrite(str(image), face_like(1000, 1000))
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100_000)
    with pytest.raises(ImageTooLargeError, match=r'too large \(1\.0 megapixels; the limit '
                       r'is 0\.5\)'):
        read_image(str(image), max_megapixels=0.5)
    assert read_image(str(image), max_megapixels=1).shape == (1000, 1000, 3)


def test_refusing_a_large_image_takes_no_memory(tmp_path):
    """The process's peak memory while the 10000x10000 PNG is refused (decoded, it takes
    300 MB; measured in a fresh process, whose peak is its own)."""
    huge = huge_png(tmp_path / 'huge.png')
    script = (
        'import resource, sys\n'
        'from dadf_mm.apis.image_files import ImageTooLargeError, read_image\n'
        'before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n'
        'try:\n'
        f'    read_image({str(huge)!r})\n'
        'except ImageTooLargeError:\n'
        '    pass\n'
        'print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n')
    proc = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    grew_kb = int(proc.stdout.split()[-1])
    assert grew_kb < 20_000, f'peak memory grew by {grew_kb} KB'


def test_infer_refuses_a_large_image_in_one_line(demo_checkpoint, tmp_path, capsys):
    huge = huge_png(tmp_path / 'huge.png')
    small = tmp_path / 'small.png'
    cv2.imwrite(str(small), face_like(64, 64))
    out = tmp_path / 'out'
    capsys.readouterr()
    assert tool_exit('infer.py', DEMO, demo_checkpoint, tmp_path, '--out', out,
                     '--device', 'cpu') == '1'
    lines = _infer_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f'infer.py: image {huge} is too large')
    assert (out / 'overlays' / 'small.png.png').exists()  # the other input goes on
    wide = tmp_path / 'wide.png'  # 2.2 megapixels: within the default, over a limit of 2
    cv2.imwrite(str(wide), face_like(1000, 2200))
    assert tool_exit('infer.py', DEMO, demo_checkpoint, wide, '--out', tmp_path / 'out2',
                     '--device', 'cpu', '--max-megapixels', '2') == '1'
    assert _infer_lines(capsys) == [
        f'infer.py: image {wide} is too large (2200x1000 pixels, 2.2 megapixels; the limit is '
        '2): shrink it or crop the face (the model sees it at about 1 megapixel), or raise the '
        'limit with --max-megapixels']


def _nan_scores(self, inputs, data_samples=None):
    results = _PREDICT(self, inputs, data_samples)
    for sample in results:
        sample.set_field(sample.pred_score * float('nan'), 'pred_score')
    return results


_PREDICT = DADF.predict


def test_a_nan_probability_stops_inference_in_one_line(demo_checkpoint, tmp_path, capsys):
    """Was: "fake_probability": NaN (not JSON) and "is_fake": false, exit status 0."""
    for name, seed in (('a.png', 1), ('b.png', 2)):
        cv2.imwrite(str(tmp_path / name), face_like(64, 64, seed=seed))
    out = tmp_path / 'out'
    with mock.patch.object(DADF, 'predict', _nan_scores):
        message = tool_exit('infer.py', DEMO, demo_checkpoint, tmp_path, '--out', out,
                            '--device', 'cpu')
        inferencer = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
        with pytest.raises(NonFiniteOutputError, match='gives a fake probability nan'):
            inferencer.predict([face_like(64, 64)], ['x'])
        with pytest.raises(NonFiniteOutputError):
            inferencer(str(tmp_path / 'a.png'))
    assert message == (
        f'infer.py: checkpoint {demo_checkpoint} gives a fake probability nan (not a finite '
        f'number) for {tmp_path / "a.png"}: its weights or the config make non-finite values '
        '(a training run that diverged?); use an earlier checkpoint, or check model.* in '
        '--cfg-options')
    text = open(out / 'predictions.jsonl').read()
    records = [json.loads(line, parse_constant=_refuse) for line in text.splitlines()]
    assert records == [dict(input=str(tmp_path / 'a.png'), error=message[len('infer.py: '):])]
    assert not list((out / 'overlays').iterdir())


def _refuse(constant: str):
    raise AssertionError(f'{constant} in predictions.jsonl')
