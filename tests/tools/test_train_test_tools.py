"""tools/train.py, test.py, dist_train.sh, dist_test.sh and infer.py as a user runs them,
on the built-in synthetic demo (a small SAM-architecture DADF, CPU)."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from tests.helpers.image_files import drifting_face_video
from tests.helpers.tool_runs import DEMO, FAST_DATA, ROOT, run_process


def run(args, *, env=None, timeout=1800):
    proc = run_process(args, env=env, timeout=timeout)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-5000:])
    return proc


def train(work_dir, *options, resume=False):
    cmd = [sys.executable, 'tools/train.py', DEMO, '--work-dir', str(work_dir)]
    if resume:
        cmd.append('--resume')
    return run(cmd + ['--cfg-options', *FAST_DATA, *options])


def test_metrics(config_options, checkpoint, out, *, launcher=None):
    if launcher is None:
        cmd = [sys.executable, 'tools/test.py', DEMO, str(checkpoint)]
        env = None
    else:
        cmd = ['bash', 'tools/dist_test.sh', DEMO, str(checkpoint), str(launcher)]
        env = dict(PORT=str(free_port()))
    run(cmd + ['--out', str(out), '--work-dir', str(out),
               '--cfg-options', *FAST_DATA, *config_options], env=env)
    with open(osp.join(out, 'metrics.json')) as f:
        return json.load(f)


test_metrics.__test__ = False  # a helper, not a test


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def state(path):
    return torch.load(str(path), map_location='cpu', weights_only=True)['state_dict']


def test_resume_after_a_crash_reaches_the_uninterrupted_weights(tmp_path):
    common = ['train_cfg.max_iters=12', 'train_cfg.val_interval=1000',
              'default_hooks.checkpoint.interval=6', 'default_hooks.visualization.draw=False']
    train(tmp_path / 'full', *common)
    # the same run killed after iteration 6 (its checkpoint written), then resumed
    crashing = tmp_path / 'crashing_demo.py'
    crashing.write_text(
        f"_base_ = [{DEMO!r}]\n"
        "custom_imports = dict(imports=['dadf_mm', 'tests.helpers.crash_hook'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='CrashAfterIter', iteration=6)]\n")
    proc = run_process(
        [sys.executable, 'tools/train.py', str(crashing), '--work-dir', str(tmp_path / 'split'),
         '--cfg-options', *FAST_DATA, *common])
    assert proc.returncode != 0 and 'simulated crash after iteration 6' in proc.stderr
    assert not (tmp_path / 'split' / 'iter_12.pth').exists()
    train(tmp_path / 'split', *common, resume=True)
    full = state(tmp_path / 'full' / 'iter_12.pth')
    split = state(tmp_path / 'split' / 'iter_12.pth')
    assert full.keys() == split.keys()
    for key in full:
        assert torch.equal(full[key], split[key]), key
    # the 6-iteration state differs, so the comparison above is not vacuous
    halfway = state(tmp_path / 'split' / 'iter_6.pth')
    assert any(not torch.equal(full[k], halfway[k]) for k in full if full[k].is_floating_point())


def test_two_process_training_and_testing_on_cpu(tmp_path):
    """torchrun with gloo: 2 processes train, the checkpoint loads in one process, and
    dist_test.sh gives tools/test.py's metrics on a set that 2 does not divide."""
    run(['bash', 'tools/dist_train.sh', DEMO, '2', '--work-dir', str(tmp_path / 'dist'),
         '--cfg-options', *FAST_DATA, 'train_cfg.max_iters=4',
         'train_cfg.val_interval=1000',
         'default_hooks.checkpoint.interval=4', 'default_hooks.visualization.draw=False'],
        env=dict(PORT=str(free_port()), OMP_NUM_THREADS='1'))
    ckpt = tmp_path / 'dist' / 'iter_4.pth'
    assert ckpt.exists()
    odd = ['test_dataloader.dataset.num_samples=25', 'test_dataloader.batch_size=4']
    single = test_metrics(odd, ckpt, tmp_path / 'one')
    double = test_metrics(odd, ckpt, tmp_path / 'two', launcher=2)
    assert single.keys() == double.keys() and 'PBCA' in single
    for key in single:
        # pixel_AUC counts probabilities in 2**16 bins: two processes batch the images
        # otherwise, their float32 probabilities differ in the last bits, and a pixel on a
        # bin edge moves (measured: 7e-6 points; the tolerance is 140 times that). The exact
        # equality across processes is tests/evaluation/test_forgery_metric_dist.py's, on
        # identical inputs.
        tolerance = 1e-3 if key.endswith('pixel_AUC') else 1e-9
        assert single[key] == pytest.approx(double[key], abs=tolerance, nan_ok=True), key
    one = open(tmp_path / 'one' / 'predictions.jsonl').read().splitlines()
    two = open(tmp_path / 'two' / 'predictions.jsonl').read().splitlines()
    assert len(one) == len(two) == 25



def test_infer_on_an_image_a_video_and_a_bad_file(tmp_path, short_demo_run):
    inputs = tmp_path / 'inputs'
    inputs.mkdir()
    from skimage import data
    cv2.imwrite(str(inputs / 'face.png'), data.astronaut()[..., ::-1])
    # two inputs of one stem: each keeps its own pictures (one overwrote the other)
    cv2.imwrite(str(inputs / 'dup.png'), data.astronaut()[..., ::-1])
    cv2.imwrite(str(inputs / 'dup.jpg'), np.ascontiguousarray(data.coffee()[..., ::-1]))
    drifting_face_video(inputs / 'clip.mp4')
    (inputs / 'broken.jpg').write_bytes(b'not an image')
    out = tmp_path / 'out'
    proc = subprocess.run(
        [sys.executable, 'tools/infer.py', DEMO, str(short_demo_run.work_dir / 'iter_5.pth'),
         str(inputs), '--out', str(out), '--num-frames', '4'], cwd=ROOT, capture_output=True,
        text=True, timeout=900)
    assert proc.returncode == 1  # one input failed, the others are written
    assert 'broken.jpg' in proc.stderr and 'cannot be decoded as an image' in proc.stderr
    records = [json.loads(line) for line in open(out / 'predictions.jsonl')]
    by_input = {}
    for r in records:
        by_input.setdefault(osp.basename(r['input']), []).append(r)
    assert 'error' in by_input['broken.jpg'][0]
    image = by_input['face.png'][0]
    assert 0 <= image['fake_probability'] <= 1 and 0 <= image['forged_area'] <= 1
    assert image['is_fake'] == (image['fake_probability'] > 0.5)
    frames = [r for r in by_input['clip.mp4'] if not r.get('video')]
    video = [r for r in by_input['clip.mp4'] if r.get('video')][0]
    assert len(frames) == 4 and video['frames'] == 4
    assert video['fake_probability'] == pytest.approx(
        np.mean([r['fake_probability'] for r in frames]), abs=1e-5)
    assert all(r['face_box'] is not None for r in frames)
    assert [r['overlay'] for r in frames] == [
        f'overlays/clip.mp4.frame{r["frame"]:06d}.png' for r in frames]
    for sub in ('overlays', 'heatmaps'):
        written = sorted(os.listdir(out / sub))
        assert {'face.png.png', 'dup.png.png', 'dup.jpg.png'} <= set(written)
        assert len(written) == 7  # 3 images, 4 frames: no two inputs share a picture
        img = cv2.imread(str(out / sub / 'face.png.png'))
        assert img.shape == (512, 512, 3)
    for name, size in (('dup.png', (512, 512)), ('dup.jpg', (400, 600))):
        record = by_input[name][0]  # the JSON line says which pictures are this input's
        assert record['overlay'] == f'overlays/{name}.png'
        assert record['heatmap'] == f'heatmaps/{name}.png'
        assert cv2.imread(str(out / record['overlay'])).shape[:2] == size
