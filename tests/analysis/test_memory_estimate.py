"""The meta-device memory estimate against the profiler's count of a real CPU step.

What the estimate cannot see, and the tolerance allows for (``allowance``):

* buffers that kernels allocate for themselves inside one op, all in convolutions: the
  im2col columns of PyTorch's own CPU convolution (``C_in/groups * k_h * k_w * H_out *
  W_out`` per image) or oneDNN's reorders of the weight, input and output into its blocked
  layouts (measured: SAM's 3x3 neck convolution reorders its 2.25 MiB weight on every
  call). Which of them a CPU uses depends on its instruction set, so the allowance is the
  larger of the two for the convolution where it is largest (one op runs at a time);
* the noise of the noisy view, drawn on the CPU per image and stacked (two (B, 3, S, S)
  float32 tensors), which the meta run does not count (it counts meta storages only);
* 2 % of the measured peak for the ordering of frees within an op.

Measurements run on one thread, so per-thread buffers (CPU flash attention, oneDNN
scratchpads) do not grow with the number of cores, and a steady-state step is measured
(one step first, so the optimizer state exists and caches are warm): the profiled peak is
the memory allocated on top of parameters, buffers, inputs and optimizer state, which is
``peak - resident - optimizer_state`` of the estimate.
"""
import importlib.util
from contextlib import contextmanager
from pathlib import Path
from typing import Tuple

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from torch import nn

from dadf_mm.analysis import (
    CUDA_CONTEXT_BYTES,
    MemoryTracker,
    TargetEmulation,
    estimate_config_memory,
    estimate_step_memory,
    profiled_cpu_peak,
)
from dadf_mm.analysis.memory_config import build_optimizer, dadf_model_config, meta_batch
from dadf_mm.analysis.memory_report import GiB
from dadf_mm.analysis.meta_autocast import autocast_on_meta
from tests.helpers.model_cases import tiny_dadf_cfg

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'memory_estimate.py'
DEMO = ROOT / 'configs' / 'dadf' / 'dadf_sam-tiny_synthetic-demo.py'
VIT_H = ROOT / 'configs' / 'dadf' / 'dadf_vit-h_ffpp-hq.py'
ORDERING_SHARE = 0.02


@contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def conv_workspace_bound(model: nn.Module, run) -> int:
    """The largest workspace any convolution of ``model`` may allocate during ``run()``:
    its im2col columns, or reordered copies of its weight, input and output."""
    sizes = [0]

    def hook(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.ConvTranspose2d):
            cols = module.out_channels * x.shape[-2] * x.shape[-1]
        else:
            cols = module.in_channels // module.groups * output.shape[-2] * output.shape[-1]
        k = module.kernel_size[0] * module.kernel_size[1]
        im2col = x.shape[0] * cols * k * x.element_size()
        reorders = sum(t.numel() * t.element_size() for t in (module.weight, x, output))
        sizes.append(max(im2col, reorders))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        run()
    finally:
        for h in handles:
            h.remove()
    return max(sizes)


def measure_cpu_step(cfg: Config, *, mode: str, batch_size: int, img_size: int
                     ) -> Tuple[int, int]:
    """Profiled peak of a steady-state CPU step of ``cfg`` and the workspace bound."""
    torch.manual_seed(0)
    model = MODELS.build(dadf_model_config(cfg, img_size=img_size))
    inputs, samples = meta_batch(batch_size, img_size, device='cpu')
    if mode == 'train':
        optimizer = build_optimizer(model, cfg.get('optim_wrapper'), target='cpu', notes=[])
        model.train()

        def step():
            loss, _ = model.parse_losses(model.loss(inputs, samples))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model.predict(inputs, samples)
    with one_thread():
        workspace = conv_workspace_bound(model, step)
        return profiled_cpu_peak(step), workspace


def check_against_cpu(cfg: Config, *, mode: str, batch_size: int, img_size: int):
    estimate = estimate_config_memory(cfg, batch_size=batch_size, img_size=img_size,
                                      mode=mode, target='cpu')
    measured, workspace = measure_cpu_step(cfg, mode=mode, batch_size=batch_size,
                                           img_size=img_size)
    estimated = estimate.peak - estimate.resident - estimate.optimizer_state
    noise = 2 * batch_size * 3 * img_size**2 * 4
    allowance = ORDERING_SHARE * measured + noise + workspace
    assert abs(measured - estimated) <= allowance, (
        f'{mode}: measured {measured} B, estimated {estimated} B, allowed difference '
        f'{allowance:.0f} B (workspace {workspace}, noise {noise})')
    return estimate, measured


def tiny_config(**backbone) -> Config:
    cfg = tiny_dadf_cfg()
    cfg['backbone'].update(backbone)
    return Config(dict(model=cfg))


# the measuring methods ------------------------------------------------------------------
def test_profiler_peak_of_known_allocations():
    def run():
        a = torch.empty(1000, 1000)  # 4.0 MB
        b = torch.empty(500, 1000)  # 2.0 MB
        del a
        c = torch.empty(3000, 1000)  # 12.0 MB: the peak is b + c
        del b, c
        torch.empty(10)
    assert profiled_cpu_peak(run) == 14_000_000


def test_tracker_counts_each_storage_once_and_frees_it():
    tracker = MemoryTracker()
    with tracker:
        x = torch.empty(1000)  # 4000 B
        view = x[10:].view(10, 99)  # a view: nothing new
        x.add_(1)  # in place: nothing new
        y = x * 2  # 4000 B more
        assert tracker.live == 8000
        del x
        assert tracker.live == 8000  # the view keeps x's storage alive
        del view
        assert tracker.live == 4000
    assert tracker.peak == 8000
    del y
    assert tracker.live == 0


class Block(nn.Module):
    def __init__(self, dim: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.norm, self.heads = nn.LayerNorm(dim), heads
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = nn.functional.scaled_dot_product_attention(q, k, v)
        x = x + self.proj(out.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(x)


@pytest.mark.parametrize('checkpointing', [False, True])
def test_tracking_a_real_cpu_step_equals_the_profiler(checkpointing):
    """The tracker on real tensors sees what the allocator sees (no kernel workspaces
    in these layers)."""
    torch.manual_seed(0)
    blocks = nn.ModuleList(Block() for _ in range(3))
    x = torch.randn(4, 128, 64)

    def loss():
        h = x
        for block in blocks:
            h = torch.utils.checkpoint.checkpoint(block, h, use_reentrant=False) \
                if checkpointing else block(h)
        return h.square().mean()

    optimizer = torch.optim.AdamW(blocks.parameters(), foreach=False)

    def step():
        loss().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    with one_thread():
        step()
        measured = profiled_cpu_peak(step)
        est = estimate_step_memory(blocks, loss, optimizer=optimizer, inputs=x, target='cpu')
    estimated = est.peak - est.resident - est.optimizer_state
    assert abs(measured - estimated) <= ORDERING_SHARE * measured
    # AdamW: two states per parameter (and, on a CPU, its step count, a scalar each)
    assert est.gradients == est.trainable_parameters
    steps = 4 * len(list(blocks.parameters()))
    assert est.optimizer_state == 2 * est.trainable_parameters + steps


# DADF on meta against a real CPU step ---------------------------------------------------
@pytest.mark.parametrize('mode', ['train', 'infer'])
@pytest.mark.parametrize('batch_size', [2, 4])
def test_tiny_dadf_estimate_matches_the_cpu(mode, batch_size):
    check_against_cpu(tiny_config(), mode=mode, batch_size=batch_size, img_size=128)


def test_checkpointing_saves_less_and_the_cpu_agrees():
    plain, plain_peak = check_against_cpu(tiny_config(), mode='train', batch_size=4,
                                          img_size=128)
    ckpt, ckpt_peak = check_against_cpu(tiny_config(grad_checkpointing=True), mode='train',
                                        batch_size=4, img_size=128)
    assert ckpt.saved_activations < 0.7 * plain.saved_activations
    assert ckpt.peak < plain.peak and ckpt_peak < plain_peak
    # the recomputation happens in backward: there the checkpointed run allocates again
    assert ckpt.phase_peaks['backward'] > ckpt.resident + ckpt.retained_after_forward


@pytest.mark.parametrize('mode', ['train', 'infer'])
def test_demo_config_estimate_matches_the_cpu(mode):
    check_against_cpu(Config.fromfile(str(DEMO)), mode=mode, batch_size=2, img_size=64)


# what a GPU would run ------------------------------------------------------------------
def test_cuda_target_runs_fused_attention_without_the_score_matrix():
    cfg = tiny_config()
    cpu = estimate_config_memory(cfg, batch_size=2, mode='train', target='cpu')
    cuda = estimate_config_memory(cfg, batch_size=2, mode='train', target='cuda')
    assert set(cpu.attention_kernels) == {'math'}  # the CPU has no mask gradient kernel
    assert set(cuda.attention_kernels) == {'efficient'}
    folded = estimate_config_memory(tiny_config(attn_impl='sdpa_folded'), batch_size=2,
                                    mode='train', target='cuda')
    assert set(folded.attention_kernels) == {'efficient'}
    assert cuda.device_context == CUDA_CONTEXT_BYTES and cpu.device_context == 0
    assert cuda.peak % 512 == 0


def test_emulated_autocast_on_meta():
    linear, norm = nn.Linear(8, 8, device='meta'), nn.LayerNorm(8, device='meta')
    x = torch.zeros(2, 8, device='meta')
    with TargetEmulation(target='cuda'), torch.autocast('cpu', dtype=torch.bfloat16):
        y = linear(x)
        z = norm(y)
        s = y.softmax(-1)
    assert (y.dtype, z.dtype, s.dtype) == (torch.bfloat16, torch.float32, torch.float32)


def test_emulated_bfloat16_saves_less_than_float32():
    with torch.device('meta'):
        blocks = nn.Sequential(*(Block() for _ in range(3)))
        x = torch.zeros(4, 512, 64)
    estimates = {dtype: estimate_step_memory(blocks, lambda: blocks(x).float().mean(),
                                             inputs=x, autocast_dtype=dtype)
                 for dtype in (None, torch.bfloat16)}
    assert estimates[torch.bfloat16].saved_activations < 0.8 * estimates[None].saved_activations
    assert estimates[torch.bfloat16].attention_kernels == {'flash': 3}
    assert estimates[None].attention_kernels == {'efficient': 3}


def test_config_compute_dtype_reaches_the_encoder_on_meta():
    with torch.device('meta'):
        model = MODELS.build(tiny_dadf_cfg(noise=dict(mode='jvp')))
    model.backbone.compute_dtype = 'bfloat16'
    dtypes = []
    model.backbone.blocks[0].mlp.lin1.register_forward_hook(
        lambda module, args, out: dtypes.append(out.dtype))
    x = torch.zeros(1, 3, 128, 128, device='meta')
    with autocast_on_meta(), TargetEmulation(target='cuda'):
        out = model.backbone(x)[0]
    assert dtypes == [torch.bfloat16] and out.dtype == torch.float32
    assert torch.autocast is torch.amp.autocast_mode.autocast  # restored on exit
    with pytest.raises(RuntimeError):  # what the context makes work
        model.backbone(x)


# the tool ------------------------------------------------------------------------------
def test_tool_on_the_vit_h_config(capsys, tmp_path):
    spec = importlib.util.spec_from_file_location('dadf_memory_estimate', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'estimate.json'
    results = tool.main([str(VIT_H), '--json', str(out)])
    printed = capsys.readouterr().out
    for line in ('parameters', 'gradients', 'optimizer state', 'saved activations',
                 'largest allocation', 'peak (allocated)', 'CUDA context', 'device total',
                 'batch_size=4', 'img_size=1024'):
        assert line in printed, line
    est = results['train']
    # AdamW: two states per trainable parameter, one gradient each
    assert est.optimizer_state == 2 * est.trainable_parameters == 2 * est.gradients
    assert est.parameters > 3 * GiB  # SAM ViT-H with adapters, float32
    assert est.peak > est.resident + est.optimizer_state + est.saved_activations
    assert out.read_text().startswith('{')


def test_attention_backward_workspace_by_hand():
    """Flash: float32 dQ accumulator, rows to 128 and head dim to 32; memory-efficient: dQ,
    dK and dV accumulators (upper bound); CPU kernels and the math path: none."""
    from dadf_mm.analysis.target_emulation import attention_backward_workspace
    q = torch.empty(2, 4, 100, 80, device='meta')
    k = torch.empty(2, 4, 300, 80, device='meta')
    assert attention_backward_workspace('flash', q, k) == 4 * 2 * 4 * 128 * 96
    assert attention_backward_workspace('efficient', q, k) == 4 * 2 * 4 * (128 + 2 * 384) * 96
    assert attention_backward_workspace('math', q, k) == 0
    assert attention_backward_workspace('flash', q, k, target='cpu') == 0


def test_the_estimate_adds_the_largest_attention_workspace_and_cublas(monkeypatch):
    """The training estimate adds the largest backward workspace over the fused-attention
    calls the step makes (each recorded here, its workspace computed by hand) and 64 MiB
    for cuBLAS; inference adds only cuBLAS, a CPU target nothing."""
    from dadf_mm.analysis.memory_report import CUBLAS_WORKSPACE_BYTES
    from dadf_mm.analysis.target_emulation import TargetEmulation
    calls = []
    original = TargetEmulation.attention

    def recording(self, query, key, value, *args, **kwargs):
        backend = self.choose(query, key, value, kwargs.get('attn_mask'),
                              kwargs.get('dropout_p', 0.0), kwargs.get('enable_gqa', False))
        grad = torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value))
        calls.append((backend, tuple(query.shape), key.shape[2], grad))
        return original(self, query, key, value, *args, **kwargs)

    monkeypatch.setattr(TargetEmulation, 'attention', recording)

    def up(n, m):
        return -(-n // m) * m

    def by_hand(backend, q_shape, keys):
        b, h, rows, dim = q_shape
        if backend == 'flash':
            return 4 * b * h * up(rows, 128) * up(dim, 32)
        return 4 * b * h * (up(rows, 128) + 2 * up(keys, 128)) * up(dim, 32)

    cfg = Config.fromfile('configs/dadf/dadf_vit-b_ffpp-hq.py')
    est = estimate_config_memory(cfg, batch_size=1, mode='train', target='cuda')
    fused = [c for c in calls if c[3] and c[0] in ('flash', 'efficient')]
    assert fused and {c[0] for c in fused} == {'efficient'}
    expected = max(by_hand(backend, shape, keys) for backend, shape, keys, _ in fused)
    assert est.kernel_workspace == CUBLAS_WORKSPACE_BYTES + expected
    infer = estimate_config_memory(cfg, batch_size=1, mode='infer', target='cuda')
    assert infer.kernel_workspace == CUBLAS_WORKSPACE_BYTES
    assert estimate_config_memory(cfg, batch_size=1, mode='train',
                                  target='cpu').kernel_workspace == 0


# RGA's diagnostics -----------------------------------------------------------------------
def test_the_paper_configs_estimate_no_diagnostic_backward_passes():
    """``DADF.loss`` computes losses only; the gradient share of ``RGADiagnosticsHook``
    (two extra backward passes on the first step, whose memory the allocator keeps) is
    counted only where a config switches it on, and the paper configs do not."""
    from dadf_mm.analysis.memory_config import config_grad_share
    assert not config_grad_share(Config.fromfile(str(VIT_H)))
    cfg = tiny_config(grad_checkpointing=True)
    cfg.custom_hooks = [dict(type='RGADiagnosticsHook', interval=50, grad_share=True)]
    assert config_grad_share(cfg)
    with_share = estimate_config_memory(cfg, batch_size=8, target='cuda')
    without = estimate_config_memory(tiny_config(grad_checkpointing=True), batch_size=8,
                                     target='cuda')
    assert with_share.description['rga_grad_share'] and not without.description[
        'rga_grad_share']
    assert with_share.peak > without.peak  # measured: 89.6 against 83.5 MiB
    assert any('grad_share' in note for note in with_share.notes)
