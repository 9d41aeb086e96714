"""The encoder path on a CPU: the fast path only where the CPU has native bfloat16 and a
check on the loaded weights keeps RGA's signal, the exact float32 one otherwise (and with
``--exact``); the verdict cached per checkpoint file."""
import json
import logging
import os
import re

import cv2
import pytest
import torch
from mmengine.logging import MMLogger
from mmseg.registry import MODELS

from dadf_mm.apis import cpu_path
from dadf_mm.apis.cpu_path import (
    EXACT_SETTINGS,
    FAST_SETTINGS,
    cache_file,
    choose_cpu_path,
    cpu_path_cache_key,
    encoder_keys_given,
)
from dadf_mm.apis.inference import ForgeryInferencer
from dadf_mm.models.utils.rga_fidelity import pearson
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.model_cases import activate, tiny_dadf_cfg
from tests.helpers.tool_runs import tool_exit


class LogLines(logging.Handler):
    """The lines the current mmengine logger emits (``print_log(logger='current')``)."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def at(self, level):
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def log_lines():
    logger = MMLogger.get_current_instance()
    handler = LogLines()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def auto_cpu_path(monkeypatch):
    """This module's tests choose the path (the suite runs the exact one elsewhere)."""
    monkeypatch.delenv('DADF_MM_CPU_PATH', raising=False)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / 'cache'
    monkeypatch.setenv('DADF_MM_CACHE_DIR', str(folder))
    return folder


@pytest.fixture
def native(monkeypatch):
    """A CPU with native bfloat16 (here it is emulated: slow, but the same numbers)."""
    monkeypatch.setattr(cpu_path, 'native_bfloat16', lambda: True)


def tiny_model():
    """A tiny DADF, its adapters and RGA moved off their initialisation, in the config's
    own encoder settings (not the exact path's attention)."""
    torch.manual_seed(0)
    model = activate(MODELS.build(tiny_dadf_cfg()))
    model.backbone.set_attn_impl('reference')
    return model.eval()


def count_encodes(model):
    calls = []
    encode = model.encode

    def counted(*args, **kwargs):
        calls.append(model.noise.mode)
        return encode(*args, **kwargs)

    model.encode = counted
    return calls


def settings_of(model):
    attn = {block.attn.impl for block in model.backbone.blocks}
    assert len(attn) == 1
    return dict(noise_mode=model.noise.mode, attn_impl=attn.pop(),
                compute_dtype=model.backbone.compute_dtype,
                tangent_dtype=model.backbone.tangent_dtype)


def probe_s_by_hand(model, *, jvp):
    """S of the probe image, computed here: the same seeded input and noise seed."""
    model.noise.mode = 'jvp' if jvp else 'batched'
    model.backbone.set_attn_impl('sdpa_folded')
    model.backbone.set_tangent_dtype('bfloat16' if jvp else None)
    x = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model.encode(x, [dict(img_path='cpu_path_probe.png')])[1].abs()


def test_no_native_bfloat16_runs_exact_unchecked(monkeypatch, log_lines):
    monkeypatch.setattr(cpu_path, 'native_bfloat16', lambda: False)
    model = tiny_model()
    calls = count_encodes(model)
    choice = choose_cpu_path(model)
    assert calls == []
    assert choice.name == 'exact' and choice.s_corr is None and not choice.cached
    assert settings_of(model) == EXACT_SETTINGS
    assert choice.log_line() == ('encoder path: exact float32 (this CPU has no native '
                                 'bfloat16: AVX512-BF16 or AMX)')
    assert log_lines.at(logging.WARNING) == []


def test_exact_flag_runs_exact_unchecked(native):
    model = tiny_model()
    calls = count_encodes(model)
    choice = choose_cpu_path(model, exact=True)
    assert calls == [] and choice.name == 'exact' and choice.s_corr is None
    assert '--exact' in choice.reason
    assert settings_of(model) == EXACT_SETTINGS


def test_encoder_keys_the_user_sets_are_kept(native):
    """--cfg-options that set the encoder's path win over the choice (a benchmark of one
    path through infer.py, a user's own float32 choice); --exact still wins over them."""
    model = tiny_model()
    model.noise.mode = 'jvp'
    calls = count_encodes(model)
    keys = encoder_keys_given({'model.noise.mode': 'jvp', 'model.decode_head.x': 1})
    assert keys == ['model.noise.mode']
    choice = choose_cpu_path(model, given_keys=keys)
    assert calls == [] and choice.name == 'config' and model.noise.mode == 'jvp'
    assert choice.log_line() == ('encoder path: as the config sets it (--cfg-options sets '
                                 'model.noise.mode; no start-up check)')
    assert choose_cpu_path(model, exact=True, given_keys=keys).name == 'exact'
    assert settings_of(model) == EXACT_SETTINGS


def test_the_environment_can_ask_for_the_exact_path(native, monkeypatch):
    model = tiny_model()
    calls = count_encodes(model)
    monkeypatch.setenv('DADF_MM_CPU_PATH', 'exact')
    choice = choose_cpu_path(model, given_keys=['model.noise.mode'])
    assert calls == [] and choice.name == 'exact' and 'DADF_MM_CPU_PATH=exact' in choice.reason
    assert settings_of(model) == EXACT_SETTINGS
    monkeypatch.setenv('DADF_MM_CPU_PATH', 'fast')
    with pytest.raises(ValueError, match="DADF_MM_CPU_PATH='fast': it must be one of auto, exact"):
        choose_cpu_path(model)


def test_check_keeps_the_fast_path_on_good_weights(native, cache_dir):
    model = tiny_model()
    calls = count_encodes(model)
    choice = choose_cpu_path(model)
    assert sorted(calls) == ['batched', 'jvp']  # one probe through each path
    assert choice.name == 'fast' and not choice.cached
    assert settings_of(model) == FAST_SETTINGS and not model.training
    del model.encode  # unwrapped, for the check by hand
    expected = pearson(probe_s_by_hand(model, jvp=True), probe_s_by_hand(model, jvp=False))
    assert choice.s_corr == pytest.approx(expected, abs=1e-12)
    assert 0.99 <= choice.s_corr <= 1
    assert choice.log_line().startswith(
        f'encoder path: fast (float32, bfloat16 tangent; corr(S, S_fp32) = '
        f'{choice.s_corr:.4f} >= 0.99 on these weights, checked in ')
    assert not cache_dir.exists()  # no checkpoint, no cache


def test_injected_fault_falls_back_to_exact(native, log_lines):
    model = tiny_model()
    encode = model.encode
    noise = torch.Generator().manual_seed(1)

    def faulty(inputs, metas=None):  # the fast path's D drowned in noise
        feat, diff = encode(inputs, metas)
        if model.noise.mode == 'jvp':
            diff = diff + 100 * diff.abs().max() * torch.randn(diff.shape, generator=noise)
        return feat, diff

    model.encode = faulty
    choice = choose_cpu_path(model)
    assert choice.name == 'exact' and choice.s_corr is not None and choice.s_corr < 0.5
    assert settings_of(model) == EXACT_SETTINGS and not model.training
    warnings = log_lines.at(logging.WARNING)
    assert len(warnings) == 1
    assert f'corr(S, S_fp32) = {choice.s_corr:.4f} < 0.99' in warnings[0]
    assert 'running the exact float32 encoder' in warnings[0] and '--exact' in warnings[0]
    assert choice.log_line().startswith(
        f"encoder path: exact float32 (the fast path's corr(S, S_fp32) = "
        f'{choice.s_corr:.4f} < 0.99 on these weights, checked in ')


def test_non_finite_fast_path_falls_back(native, log_lines):
    model = tiny_model()
    encode = model.encode

    def faulty(inputs, metas=None):
        feat, diff = encode(inputs, metas)
        if model.noise.mode == 'jvp':
            diff = diff.clone()
            diff.view(-1)[0] = float('nan')
        return feat, diff

    model.encode = faulty
    choice = choose_cpu_path(model)
    assert choice.name == 'exact' and choice.s_corr is None
    assert 'not finite' in log_lines.at(logging.WARNING)[0]


def test_verdict_is_cached_per_checkpoint_file(native, cache_dir, tmp_path):
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'weights')
    cfg = tiny_dadf_cfg()
    key = cpu_path_cache_key(str(checkpoint), cfg)
    assert cpu_path_cache_key(None, cfg) is None
    model = tiny_model()
    calls = count_encodes(model)
    first = choose_cpu_path(model, cache_key=key)
    assert len(calls) == 2 and first.name == 'fast'
    record = json.load(open(cache_file(key)))
    assert record['name'] == 'fast' and record['s_corr'] == first.s_corr
    assert os.path.dirname(cache_file(key)) == str(cache_dir / 'cpu_path')

    # a second start: no check, the same verdict
    model.backbone.set_tangent_dtype(None)
    model.noise.mode = 'batched'
    second = choose_cpu_path(model, cache_key=cpu_path_cache_key(str(checkpoint), cfg))
    assert len(calls) == 2 and second.cached
    assert (second.name, second.s_corr, second.reason) == (first.name, first.s_corr,
                                                           first.reason)
    assert settings_of(model) == FAST_SETTINGS
    assert second.log_line().endswith(' s at an earlier start (cached))')

    # another threshold, or the same file rewritten (its mtime): checked again
    assert cpu_path_cache_key(str(checkpoint), cfg, threshold=0.999) != key
    stat = checkpoint.stat()
    os.utime(checkpoint, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    new_key = cpu_path_cache_key(str(checkpoint), cfg)
    assert new_key != key
    third = choose_cpu_path(model, cache_key=new_key)
    assert len(calls) == 4 and not third.cached and os.path.isfile(cache_file(new_key))

    # a corrupt cache file: checked again and rewritten, no error
    with open(cache_file(new_key), 'w') as f:
        f.write('{"name": "fast", "s_co')
    fourth = choose_cpu_path(model, cache_key=new_key)
    assert len(calls) == 6 and not fourth.cached and fourth.name == 'fast'
    assert json.load(open(cache_file(new_key)))['s_corr'] == fourth.s_corr


def test_inferencer_chooses_on_cpu(native, demo_checkpoint, cache_dir):
    inferencer = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
    choice = inferencer.cpu_path
    assert choice.name == 'fast' and choice.s_corr >= 0.99
    assert settings_of(inferencer.model) == FAST_SETTINGS
    assert inferencer.model_card.encoder_path == choice.summary()
    assert inferencer.model_card.as_dict()['encoder_path'].startswith('fast (float32')
    assert len(list((cache_dir / 'cpu_path').iterdir())) == 1
    exact = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu', exact=True)
    assert exact.cpu_path.name == 'exact'
    assert settings_of(exact.model) == EXACT_SETTINGS


def test_infer_tool_with_exact(native, demo_checkpoint, cache_dir, tmp_path, log_lines,
                               capsys):
    cv2.imwrite(str(tmp_path / 'face.png'), face_like(64, 64))
    assert tool_exit('infer.py', DEMO, demo_checkpoint, tmp_path / 'face.png', '--out',
                     tmp_path / 'out', '--device', 'cpu', '--exact') == ''
    # what a run costs, in its last line: the inputs' seconds and the peak memory
    last = capsys.readouterr().out.strip().splitlines()[-1]
    found = re.fullmatch(r'1 of 1 inputs done in ([0-9.]+) s \(([0-9.]+) s per input, peak '
                         r'memory ([0-9.]+) GiB\); results in .*', last)
    assert found, last
    assert float(found[1]) == pytest.approx(float(found[2]), abs=0.06)  # .1f and .2f
    assert 0.1 < float(found[3]) < 64  # torch alone takes more than 0.1 GiB
    lines = log_lines.at(logging.INFO)
    assert ('encoder path: exact float32 (asked for with --exact: no fast path, no start-up '
            'check)') in lines
    model = json.load(open(tmp_path / 'out' / 'model.json'))
    assert model['encoder_path'].startswith('exact float32 (asked for with --exact')
    assert not cache_dir.exists()  # nothing checked, nothing kept
    assert len(open(tmp_path / 'out' / 'predictions.jsonl').readlines()) == 1


def test_demo_showcase_with_exact(native, demo_checkpoint, cache_dir, tmp_path, log_lines):
    out = tmp_path / 'showcase'
    assert tool_exit('demo_showcase.py', DEMO, demo_checkpoint, '--out', out,
                     '--per-class', 1, '--device', 'cpu', '--exact') == ''
    assert ('encoder path: exact float32 (asked for with --exact: no fast path, no start-up '
            'check)') in log_lines.at(logging.INFO)
    assert not cache_dir.exists()


def test_web_demo_takes_exact(capsys):
    assert tool_exit('web_demo.py', '--help') == ''
    assert '--exact' in capsys.readouterr().out


def test_the_page_shows_the_encoder_path(native, demo_checkpoint, cache_dir):
    from web_page.page import model_card_markdown
    card = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu').model_card
    assert model_card_markdown(card).endswith(
        f' · **encoder** {card.encoder_path}')
    assert card.encoder_path.startswith('fast (float32, bfloat16 tangent; corr(S, S_fp32) = ')
