"""Wrong inputs to tools/test.py, infer.py and train.py: each ends in one line naming the
file or key, what is wrong and the fix, with exit status 1, and writes nothing."""
import errno
import json
import os
import sys
import tempfile
from unittest import mock

import cv2
import numpy as np
import pytest
import torch

from tests.helpers.sam_reference import build_reference_sam, save_state_dict
from tests.helpers.tool_runs import DEMO, FAST_DATA, SMALL_TEST, run_process, tool_exit

DEMO_ARCH = dict(embed_dim=96, depth=4, num_heads=4, global_attn_indexes=(1, 3))


@pytest.fixture(scope='module')
def sam_file(tmp_path_factory) -> str:
    """An official-format SAM checkpoint (segment_anything, random weights, demo arch)."""
    sam = build_reference_sam(**DEMO_ARCH, img_size=128, window_size=4)
    return save_state_dict(sam, str(tmp_path_factory.mktemp('sam') / 'sam_demo.pth'))


def face_folder(tmp_path) -> str:
    """A folder with one image, as infer.py's input."""
    (tmp_path / 'faces').mkdir()
    cv2.imwrite(str(tmp_path / 'faces' / 'face.png'), np.full((64, 64, 3), 127, np.uint8))
    return str(tmp_path / 'faces')


def one_error_line(proc, tool: str) -> str:
    """The process failed with exit status 1 and one ``<tool>: ...`` line, no traceback."""
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith(f'{tool}: ')]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


SAM_WORDS = ('does not fit the model', 'keys missing', 'unexpected', 'image_encoder.',
             'this is a SAM checkpoint', 'model.sam_checkpoint=FILE',
             'a DADF checkpoint from tools/train.py', '--allow-partial-checkpoint')


def test_test_py_refuses_a_sam_checkpoint(sam_file, tmp_path):
    """Was: "missing keys" in the log, a random model evaluated, exit status 0."""
    out = tmp_path / 'out'
    proc = run_process([sys.executable, 'tools/test.py', DEMO, sam_file, '--out', str(out),
                        '--work-dir', str(tmp_path / 'work'), '--cfg-options', *FAST_DATA,
                        *SMALL_TEST])
    line = one_error_line(proc, 'test.py')
    assert sam_file in line and all(words in line for words in SAM_WORDS), line
    assert not out.exists()


def test_infer_py_refuses_a_sam_checkpoint(sam_file, tmp_path):
    """Was: KeyError: 'meta'."""
    out = tmp_path / 'out'
    proc = run_process([sys.executable, 'tools/infer.py', DEMO, sam_file,
                        face_folder(tmp_path), '--out', str(out)])
    line = one_error_line(proc, 'infer.py')
    assert sam_file in line and all(words in line for words in SAM_WORDS), line
    assert 'KeyError' not in proc.stderr and not out.exists()


@pytest.mark.parametrize('kind,words', [
    ('empty', ['empty (0 bytes)']), ('truncated', ['truncated or corrupt']),
    ('refused', ['was refused', 'system', 'weights-only'])])
def test_a_bad_checkpoint_file_is_one_line(short_demo_run, tmp_path, kind, words):
    """Was: a bare EOFError (empty, truncated); "may be truncated" for a refused global."""
    good = (short_demo_run.work_dir / 'iter_5.pth').read_bytes()
    path = tmp_path / f'{kind}.pth'
    if kind == 'refused':
        torch.save({'state_dict': {}, 'meta': {'x': _Payload(tmp_path / 'ran')}}, str(path))
    else:
        path.write_bytes(good[:len(good) // 2] if kind == 'truncated' else b'')
    work = ['--work-dir', tmp_path / 'work']
    for tool, args in (('test.py', [DEMO, path, *work]),
                       ('train.py', [DEMO, '--resume', path, *work]),
                       ('infer.py', [DEMO, path, tmp_path, '--out', tmp_path / 'out'])):
        message = tool_exit(tool, *args)
        assert message.startswith(f'{tool}: ') and str(path) in message, message
        assert all(word in message for word in words) and '\n' not in message, message
        assert 'may be truncated' not in message
    assert not (tmp_path / 'ran').exists() and not (tmp_path / 'out').exists()


class _Payload:

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_a_partial_checkpoint_is_refused_unless_asked(short_demo_run, tmp_path):
    checkpoint = torch.load(str(short_demo_run.work_dir / 'iter_5.pth'), map_location='cpu',
                            weights_only=True)
    del checkpoint['state_dict']['decode_head.cls_branch.0.bias']
    partial = tmp_path / 'partial.pth'
    torch.save(checkpoint, str(partial))
    args = [DEMO, partial, '--out', tmp_path / 'out', '--work-dir', tmp_path / 'work',
            '--cfg-options', *FAST_DATA, *SMALL_TEST]
    message = tool_exit('test.py', *args)
    assert "test.py: checkpoint" in message and 'keys missing' in message
    assert 'decode_head.cls_branch.0.bias' in message and '--allow-partial-checkpoint' in message
    assert not (tmp_path / 'out').exists()
    assert tool_exit('test.py', *args, '--allow-partial-checkpoint') == ''
    assert (tmp_path / 'out' / 'metrics.json').exists()


def test_a_sam_checkpoint_file_that_is_empty_stops_training_in_one_line(tmp_path):
    """Was: IndexError raised inside the SAM loader's error handler."""
    empty = tmp_path / 'sam_vit_h_4b8939.pth'
    empty.write_bytes(b'')
    message = tool_exit('train.py', DEMO, '--work-dir', tmp_path / 'work', '--cfg-options',
                        *FAST_DATA, f'model.sam_checkpoint={empty}', 'train_cfg.max_iters=5')
    assert message.startswith('train.py: SAM checkpoint: ') and str(empty) in message
    assert 'empty (0 bytes)' in message and '\n' not in message
    assert not list((tmp_path / 'work').glob('*.pth'))


def test_images_of_another_size_stop_testing_with_the_pipeline_fix(short_demo_run, tmp_path):
    """Was: a tensor size mismatch inside the encoder (one other size) or mmseg's "The image
    size in a batch should be the same." (mixed sizes), neither naming an image. The shipped
    test pipelines resize; a user's pipeline without a Resize gets the fix."""
    config = tmp_path / 'no_resize.py'
    config.write_text(
        f"_base_ = [{DEMO!r}]\n"
        "test_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),\n"
        "    dict(type='PackForgeryInputs')]))\n")
    message = tool_exit('test.py', config, short_demo_run.work_dir / 'iter_5.pth', '--out',
                        tmp_path / 'out', '--work-dir', tmp_path / 'work', '--cfg-options',
                        *FAST_DATA, *SMALL_TEST, 'test_dataloader.dataset.img_size=160')
    for words in ('test.py: test_dataloader: ', '.png (160x160)', "model's input size 128x128",
                  "dict(type='Resize', scale=(128, 128), keep_ratio=False)",
                  'test_dataloader.dataset.pipeline'):
        assert words in message, message
    assert not (tmp_path / 'out' / 'metrics.json').exists()


@pytest.mark.parametrize('tool', ['test.py', 'infer.py'])
def test_an_img_size_that_is_not_a_multiple_of_the_patch_is_refused(short_demo_run, tmp_path,
                                                                     tool):
    """Was: a tensor size mismatch deep inside the encoder."""
    checkpoint = short_demo_run.work_dir / 'iter_5.pth'
    options = ['--cfg-options', 'model.backbone.img_size=130',
               'model.data_preprocessor.size=[130,130]']
    args = ([DEMO, checkpoint, '--work-dir', tmp_path / 'work'] if tool == 'test.py' else
            [DEMO, checkpoint, face_folder(tmp_path), '--out', tmp_path / 'out'])
    message = tool_exit(tool, *args, *options)
    assert message.startswith(f'{tool}: building the model of {DEMO}: ')
    assert 'img_size 130 is not a multiple of the patch size 16' in message
    assert 'model.backbone.img_size' in message and '\n' not in message
    assert not (tmp_path / 'out').exists()


def test_out_onto_an_existing_file_is_refused_before_the_test(short_demo_run, tmp_path):
    """Was: the whole test ran, then a FileExistsError traceback and no metrics."""
    taken = tmp_path / 'results.json'
    taken.write_text('keep me')
    message = tool_exit('test.py', DEMO, short_demo_run.work_dir / 'iter_5.pth', '--out', taken,
                        '--work-dir', tmp_path / 'work', '--cfg-options', *FAST_DATA,
                        *SMALL_TEST)
    assert message == (f"test.py: --out '{taken}' is a file, not a folder; give a folder for "
                       'metrics.json and predictions.jsonl')
    assert taken.read_text() == 'keep me' and not (tmp_path / 'work').exists()


def test_earlier_results_are_replaced_only_when_asked(short_demo_run, tmp_path):
    """Was: an earlier run's metrics.json and predictions.jsonl silently overwritten."""
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'metrics.json').write_text('{"AUC": 1.0}')
    args = [DEMO, short_demo_run.work_dir / 'iter_5.pth', '--out', out, '--work-dir',
            tmp_path / 'work', '--cfg-options', *FAST_DATA, *SMALL_TEST]
    message = tool_exit('test.py', *args)
    assert message == (f"test.py: --out '{out}' already holds metrics.json of an earlier run; "
                       'give another folder, or add --overwrite-out to replace them')
    assert (out / 'metrics.json').read_text() == '{"AUC": 1.0}'
    assert not (tmp_path / 'work').exists()
    assert tool_exit('test.py', *args, '--overwrite-out') == ''
    metrics = json.loads((out / 'metrics.json').read_text())
    assert {'AUC', 'PBCA', 'IINC'} <= set(metrics) and metrics['AUC'] != 1.0
    assert len((out / 'predictions.jsonl').read_text().splitlines()) == 4


def test_results_that_cannot_be_written_at_the_end_are_kept(short_demo_run, tmp_path,
                                                            monkeypatch, capsys):
    """A disk that fills up (or a folder that goes away) during the test: the metrics and
    predictions go to files in the temporary folder, named in the one error line, and the
    metrics are printed; they equal those of a run that could write."""
    args = [DEMO, short_demo_run.work_dir / 'iter_5.pth', '--cfg-options', *FAST_DATA,
            *SMALL_TEST]
    good = tmp_path / 'good'
    assert tool_exit('test.py', *args, '--out', good, '--work-dir', tmp_path / 'w1') == ''
    capsys.readouterr()
    fallback = tmp_path / 'fallback'
    fallback.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(fallback))
    full = OSError(errno.ENOSPC, 'No space left on device')
    out = tmp_path / 'full'
    with mock.patch('dadf_mm.evaluation.result_files.write_text_atomically', side_effect=full):
        message = tool_exit('test.py', *args, '--out', out, '--work-dir', tmp_path / 'w2')
    [metrics_file] = fallback.glob('dadf_metrics_*.json')
    [predictions_file] = fallback.glob('dadf_predictions_*.jsonl')
    assert message == (
        f'test.py: could not write to --out {out / "metrics.json"}: written to {metrics_file}; '
        f'{out / "predictions.jsonl"}: written to {predictions_file} instead (the metrics '
        'are printed above); check the folder and its disk')
    assert json.loads(metrics_file.read_text()) == json.loads((good / 'metrics.json')
                                                              .read_text())
    assert predictions_file.read_text() == (good / 'predictions.jsonl').read_text()
    assert metrics_file.read_text() in capsys.readouterr().out
    assert not (out / 'metrics.json').exists()
