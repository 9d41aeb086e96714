"""The benchmark tools of tools/analysis_tools end to end on a CPU with a tiny DADF config:
benchmark_speed.py, benchmark_memory.py, rga_precision_study.py, and the helpers they
share."""
import importlib.util
import json
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch

from dadf_mm.analysis.benchmark_cases import activate_zero_init
from dadf_mm.analysis.step_timing import count_flops_per_image, cpu_bfloat16_support, fmt, ratio

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools'

# A SAM-architecture DADF small enough for a CPU test, in its fast config.
TINY_FAST_CONFIG = '''
model = dict(
    type='DADF',
    noise=dict(std=1e-3, mode='jvp'),
    data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),
    backbone=dict(
        type='SAMViT',
        arch=dict(embed_dim=32, depth=2, num_heads=2, global_attn_indexes=(1, )),
        img_size=64, window_size=2, adapter=dict(variant='A', inner_channels=8),
        attn_impl='sdpa_folded', compute_dtype='float16', grad_checkpointing=True),
    neck=dict(type='RGANeck'),
    decode_head=dict(type='SAMMaskDecoderHead', cls_hidden=16),
    test_cfg=dict(mode='whole'))
'''


def load_tool(name):
    """Import ``tools/analysis_tools/<name>.py`` as ``python`` runs it: its folder (with the
    shared ``benchmark_setup``) first on the import path."""
    spec = importlib.util.spec_from_file_location(f'dadf_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(sys, 'path', [str(TOOLS), *sys.path]):
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def speed():
    return load_tool('benchmark_speed')


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'tiny_fast.py'
    path.write_text(TINY_FAST_CONFIG)
    return str(path)


def test_comparison_table(speed, config, tmp_path, capsys):
    out = tmp_path / 'result.json'
    summary = speed.main([config, '--device', 'cpu', '--batch-size', '2', '--iters', '2',
                              '--warmup', '0', '--json', str(out)])
    printed = capsys.readouterr().out
    for line in ('reference (SAM attn, fp32, 2 pass)', 'fast (config)',
                 'segment_anything encoder x2', 'fast / reference', 'corr(S_fast, S_fp32)',
                 'noise.mode=jvp, attn_impl=sdpa_folded, compute_dtype=float16'):
        assert line in printed, line
    assert json.loads(out.read_text())['fidelity']['s_corr'] == pytest.approx(
        summary['fidelity']['s_corr'])
    assert summary['fidelity']['s_corr'] >= 0.99
    flops = summary['flops_per_image']
    assert flops['train'] > 2 * flops['infer'] > 0  # backward costs about twice forward
    for phase in ('train', 'infer'):
        res = summary['results'][phase]
        for path in ('fast', 'reference'):
            assert len(res[path]['times']) == 2 and not res[path]['oom']
            assert res[path]['img_per_s'] == pytest.approx(2 / res[path]['seconds'])
        row = next(r for r in summary['rows'] if r['path'] == 'fast (config)')
        expected = res['fast']['img_per_s'] * flops[phase] / 1e12
        assert float(row[f'{phase}_tflops']) == pytest.approx(expected, abs=1e-3)
        ratio = res['fast']['img_per_s'] / res['reference']['img_per_s']
        ratios = next(r for r in summary['rows'] if r['path'] == 'fast / reference')
        assert ratios[phase] == f'{ratio:.2f}x'


def test_fast_path_alone_has_no_ratio(speed, config, capsys):
    summary = speed.main([config, '--device', 'cpu', '--batch-size', '1', '--iters', '1',
                          '--warmup', '0', '--skip-reference', '--skip-inference'])
    assert set(summary['results']['train']) == {'fast'}
    assert [r['path'] for r in summary['rows']] == ['fast (config)', 'fast / reference']
    assert summary['rows'][-1]['train'] == '-' and summary['rows'][0]['infer'] == '-'
    assert 'inference:' not in capsys.readouterr().out


@pytest.mark.parametrize('native', [False, True])
def test_cpu_path_times_what_the_tools_choose(speed, config, capsys, monkeypatch, native):
    """--cpu-path replaces the config's encoder keys by the tools' choice on this CPU: the
    exact path without native bfloat16, the float32 pass with a bfloat16 tangent with it."""
    monkeypatch.setattr(speed, 'native_bfloat16', lambda: native)
    summary = speed.main([config, '--device', 'cpu', '--batch-size', '1', '--iters', '1',
                          '--warmup', '0', '--skip-reference', '--skip-training', '--cpu-path'])
    expected = ('noise.mode=jvp, attn_impl=sdpa_folded, compute_dtype=float32, '
                'tangent_dtype=bfloat16' if native else
                'noise.mode=batched, attn_impl=sdpa_folded, compute_dtype=float32, '
                'tangent_dtype=None')
    assert summary['fast'].startswith(expected)
    assert summary['fidelity']['s_corr'] >= (0.99 if native else 0.99999)
    assert f'threads; {cpu_bfloat16_support()})' in capsys.readouterr().out  # the CPU's kind


def test_flop_count_of_one_linear_layer():
    """The counter behind the TFLOP/s column: 2 * m * n * k for a matrix product."""
    layer = torch.nn.Linear(16, 8, bias=False)
    x = torch.randn(4, 16)
    assert count_flops_per_image(lambda: layer(x), 4) == 2 * 16 * 8


def test_formatting_of_the_table_cells():
    assert fmt(1.234) == '1.23' and fmt(None) == '-' and fmt(2.0, oom=True) == 'OOM'
    assert ratio(3.0, 2.0) == '1.50x' and ratio(None, 2.0) == '-' and ratio(1.0, 0.0) == '-'


def test_zero_initialised_parts_are_activated_and_others_kept():
    model = torch.nn.Module()
    model.output_proj = torch.nn.Linear(4, 4)
    model.enhancer = torch.nn.Conv2d(4, 4, 1)
    model.other = torch.nn.Linear(4, 4)
    for module in (model.output_proj, model.enhancer, model.other):
        torch.nn.init.zeros_(module.weight)
    torch.nn.init.ones_(model.enhancer.bias)
    before = {n: p.clone() for n, p in model.named_parameters()}
    activate_zero_init(model, seed=0, adapter_std=0.5, other_std=0.01)
    after = dict(model.named_parameters())
    assert 0.1 < after['output_proj.weight'].std() < 1.5  # adapter_std
    assert 0 < after['enhancer.weight'].abs().max() < 0.1  # other_std
    # not all zero, or not of a named part
    for kept in ('output_proj.bias', 'enhancer.bias', 'other.weight', 'other.bias'):
        assert torch.equal(after[kept], before[kept]), kept
    activate_zero_init(model, seed=0, parts=('enhancer', ), zero_only=False)
    assert not torch.equal(model.enhancer.bias, before['enhancer.bias'])


def test_memory_table(config, capsys):
    summary = load_tool('benchmark_memory').main(
        [config, '--device', 'cpu', '--archs', 'config', '--sizes', '32', '64',
         '--batch-sizes', '1', '--iters', '1', '--warmup', '0'])
    printed = capsys.readouterr().out
    assert '| arch | input | batch |' in printed
    assert [(r['size'], r['batch']) for r in summary['rows']] == [(32, 1), (64, 1)]
    assert all(r['img_per_s'] > 0 and not r['oom'] for r in summary['rows'])
    assert '| embed 32, depth 2 | 64 | 1 |' in printed


def test_precision_study_separates_the_strategies(config, capsys):
    summary = load_tool('rga_precision_study').main([config, '--device', 'cpu',
                                                     '--batch-size', '2'])
    corr = {r['strategy']: r['s_corr'] for r in summary['rows']}
    assert corr['two views in one batch, float32'] > 0.999
    assert corr['two views in one batch, bfloat16'] < 0.5  # rounding noise
    assert corr['jvp, float16'] >= 0.99 and corr['jvp, float32'] >= 0.99
    assert '| how S is computed | sigma |' in capsys.readouterr().out


@pytest.mark.parametrize('tool', ['benchmark_speed', 'benchmark_memory', 'rga_precision_study'])
def test_a_config_without_dadf_is_refused(tool, tmp_path):
    path = tmp_path / 'other.py'
    path.write_text("model = dict(type='EncoderDecoder')\n")
    with pytest.raises(SystemExit, match="measure DADF models; the config's model is "
                       "'EncoderDecoder'"):
        load_tool(tool).main([str(path), '--device', 'cpu'])
