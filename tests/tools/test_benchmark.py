"""tools/analysis_tools/benchmark.py end to end on a CPU with a tiny DADF config."""
import importlib.util
import json
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' / 'benchmark.py'

# A SAM-architecture DADF small enough for a CPU test, in its fast config.
TINY_FAST_CONFIG = '''
model = dict(
    type='DADF',
    noise_std=1e-3,
    noise_pass='jvp',
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


@pytest.fixture(scope='module')
def benchmark():
    spec = importlib.util.spec_from_file_location('dadf_benchmark', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'tiny_fast.py'
    path.write_text(TINY_FAST_CONFIG)
    return str(path)


def test_comparison_table(benchmark, config, tmp_path, capsys):
    out = tmp_path / 'result.json'
    summary = benchmark.main([config, '--device', 'cpu', '--batch-size', '2', '--iters', '2',
                              '--warmup', '0', '--json', str(out)])
    printed = capsys.readouterr().out
    for line in ('reference (SAM attn, fp32, 2 pass)', 'fast (config)',
                 'segment_anything encoder x2', 'fast / reference', 'corr(S_fast, S_fp32)',
                 'noise_pass=jvp, attn_impl=sdpa_folded, compute_dtype=float16'):
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


def test_flop_count_of_one_linear_layer(benchmark):
    """The counter behind the TFLOP/s column: 2 * m * n * k for a matrix product."""
    import torch
    layer = torch.nn.Linear(16, 8, bias=False)
    x = torch.randn(4, 16)
    assert benchmark.count_flops_per_image(lambda: layer(x), 4) == 2 * 16 * 8


def test_memory_table(benchmark, config, capsys):
    summary = benchmark.main([config, '--device', 'cpu', '--memory-table', '--archs', 'config',
                              '--sizes', '32', '64', '--batch-sizes', '1', '--iters', '1',
                              '--warmup', '0'])
    printed = capsys.readouterr().out
    assert '| arch | input | batch |' in printed
    assert [(r['size'], r['batch']) for r in summary['rows']] == [(32, 1), (64, 1)]
    assert all(r['img_per_s'] > 0 and not r['oom'] for r in summary['rows'])
    assert '| embed 32, depth 2 | 64 | 1 |' in printed


def test_precision_study_separates_the_strategies(benchmark, config, capsys):
    summary = benchmark.main([config, '--device', 'cpu', '--precision-study',
                              '--batch-size', '2'])
    corr = {r['strategy']: r['s_corr'] for r in summary['rows']}
    assert corr['two views in one batch, float32'] > 0.999
    assert corr['two views in one batch, bfloat16'] < 0.5  # rounding noise
    assert corr['jvp, float16'] >= 0.99 and corr['jvp, float32'] >= 0.99
    assert '| how S is computed | sigma |' in capsys.readouterr().out


def test_a_config_without_dadf_is_refused(benchmark, tmp_path):
    path = tmp_path / 'other.py'
    path.write_text("model = dict(type='EncoderDecoder')\n")
    with pytest.raises(SystemExit, match='DADF'):
        benchmark.main([str(path), '--device', 'cpu'])
