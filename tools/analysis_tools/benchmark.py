"""Speed, memory and RGA fidelity of a DADF config: its fast path against the reference.

    python tools/analysis_tools/benchmark.py CONFIG [--batch-size 4] [--img-size 1024]
        [--iters 10] [--warmup 3] [--device cuda] [--cfg-options KEY=VALUE ...]
    python tools/analysis_tools/benchmark.py CONFIG --memory-table \\
        --archs vit_b vit_h --sizes 512 1024 --batch-sizes 1 2 4

Two models are built from CONFIG with the same random weights (or ``--checkpoint``):

* fast: the config's model as it is (its fast keys: ``noise_pass``, ``attn_impl``,
  ``compute_dtype``, ``grad_checkpointing``, ``compile``);
* reference: the same model with every fast key off: SAM's explicit attention
  (``segment_anything``'s formulation), float32, the clean and the noisy view as two
  encoder passes, no checkpointing, eager.

For each, in the same run and interleaved iteration by iteration: training img/s (a full
step: both views, all losses, backward, AdamW step), inference img/s (``predict``: both
views, heads, resizing), peak memory (CUDA: ``max_memory_allocated``; CPU: growth of the
resident set over the step) and achieved TFLOP/s, counted as the reference step's FLOPs
(``FlopCounterMode``) per second so that the rows compare. A third row times
``segment_anything``'s ``ImageEncoderViT`` itself (float32, two passes, inference). Then
the RGA check: the Pearson correlation of the fast path's ``S = |F_gau - F|`` with the
reference's float32 ``S`` on the same input and noise (target >= 0.99).

``--memory-table`` instead trains the fast model for a few steps per arch x input size x
batch and prints peak memory and img/s as a Markdown table with the device's name.
Weights are random unless ``--checkpoint`` (a DADF checkpoint) or ``--sam-checkpoint``
is given: speed does not depend on them, the RGA correlation does a little.
"""
import argparse
import copy
import ctypes
import gc
import json
import os
import statistics
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from torch.utils.flop_counter import FlopCounterMode

import dadf_mm  # noqa: F401
from dadf_mm.analysis.memory_estimate import dadf_model_config
from dadf_mm.models.rga_fidelity import (
    REFERENCE_BACKBONE_KEYS,
    REFERENCE_MODEL_KEYS,
    rga_signal_fidelity,
)
from dadf_mm.models.sam_checkpoint import SAM_ARCHS

GiB = 1024**3
FAST_BACKBONE_KEYS = ('attn_impl', 'compute_dtype', 'grad_checkpointing', 'compile')


# models ------------------------------------------------------------------------------------
def model_config(cfg: Config, *, img_size: Optional[int] = None, arch=None,
                 sam_checkpoint: Optional[str] = None) -> dict:
    """The config's model, with another input size or arch if asked, no SAM file unless
    given (random weights)."""
    if cfg.model.get('type') != 'DADF':
        raise SystemExit(f"benchmark.py measures DADF models; the config's model is "
                         f"{cfg.model.get('type')!r}")
    model = dadf_model_config(cfg, img_size=img_size)
    model['sam_checkpoint'] = sam_checkpoint
    if arch is not None:
        model['backbone']['arch'] = arch
    return model


def reference_config(model: dict) -> dict:
    """The same model with every fast key off."""
    ref = copy.deepcopy(model)
    ref.update(REFERENCE_MODEL_KEYS)
    ref['backbone'].update(REFERENCE_BACKBONE_KEYS)
    return ref


def activate_zero_init(model: torch.nn.Module, seed: int, adapter_std: float = 0.02) -> None:
    """Give the zero-initialised parts (adapter outputs, RGA enhancer, SAM's position
    tables) small random values, so that every part of the model is exercised; the adapter
    outputs get ``adapter_std`` (0 keeps the adapters the identity, as at the start of
    training)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.abs().sum() == 0 and param.dim() > 0 and (
                    'output_proj' in name or 'enhancer' in name or 'pos' in name):
                std = adapter_std if 'output_proj' in name else 0.02
                noise = torch.randn(param.shape, generator=gen, device='cpu')
                param.add_(std * noise.to(param))


def build_model(model_cfg: dict, device: torch.device, seed: int,
                checkpoint: Optional[str] = None, adapter_std: float = 0.02
                ) -> torch.nn.Module:
    torch.manual_seed(seed)
    with torch.device(device):  # initialise where it runs (ViT-H on a CPU takes long)
        model = MODELS.build(copy.deepcopy(model_cfg))
    if model_cfg.get('sam_checkpoint'):
        model.init_weights()
    if checkpoint:
        from mmengine.runner import load_checkpoint

        from dadf_mm.engine.safe_checkpoint_loading import allow_mmengine_checkpoints
        allow_mmengine_checkpoints()
        load_checkpoint(model, checkpoint, map_location='cpu', strict=False)
    elif not model_cfg.get('sam_checkpoint'):
        activate_zero_init(model, seed, adapter_std)
    return model.to(device)


def sam_image_encoder(model_cfg: dict) -> torch.nn.Module:
    """``segment_anything``'s own ``ImageEncoderViT`` of the config's arch and size."""
    from functools import partial

    from segment_anything.modeling import ImageEncoderViT
    backbone = model_cfg['backbone']
    arch = backbone.get('arch', 'vit_h')
    spec = SAM_ARCHS[arch] if isinstance(arch, str) else arch
    return ImageEncoderViT(
        depth=spec['depth'], embed_dim=spec['embed_dim'], img_size=backbone.get('img_size', 1024),
        mlp_ratio=4, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
        num_heads=spec['num_heads'], patch_size=backbone.get('patch_size', 16), qkv_bias=True,
        use_rel_pos=True, global_attn_indexes=tuple(spec['global_attn_indexes']),
        window_size=backbone.get('window_size', 14), out_chans=256)


def make_batch(batch_size: int, img_size: int, device: torch.device, seed: int
               ) -> Tuple[torch.Tensor, List[SegDataSample]]:
    """Normalised-space images and samples: real ones with empty masks, fakes with a box."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch_size, 3, img_size, img_size, generator=gen).to(device)
    samples = []
    for i in range(batch_size):
        label = i % 2
        mask = torch.zeros(1, img_size, img_size, dtype=torch.long)
        if label:
            mask[:, img_size // 4:3 * img_size // 4, img_size // 3:2 * img_size // 3] = 1
        shape = (img_size, img_size)
        samples.append(SegDataSample(
            gt_sem_seg=PixelData(data=mask.to(device)),
            metainfo=dict(gt_label=label, img_path=f'benchmark_{i}.png', ori_shape=shape,
                          img_shape=shape, pad_shape=shape, padding_size=[0, 0, 0, 0])))
    return inputs, samples


# steps -------------------------------------------------------------------------------------
def train_step(model: torch.nn.Module, inputs: torch.Tensor, samples: List[SegDataSample]
               ) -> Callable[[], None]:
    """One optimisation step: both views, all losses, backward, AdamW."""
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.01)

    def step() -> None:
        model.train()
        losses = model.loss(inputs, samples)
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
    return step


def infer_step(model: torch.nn.Module, inputs: torch.Tensor, samples: List[SegDataSample]
               ) -> Callable[[], None]:
    def step() -> None:
        model.eval()
        with torch.no_grad():
            model.predict(inputs, samples)
    return step


def sam_encoder_step(encoder: torch.nn.Module, inputs: torch.Tensor, sigma: float
                     ) -> Callable[[], None]:
    def step() -> None:
        with torch.no_grad():
            encoder(inputs)
            encoder(inputs + sigma * torch.randn_like(inputs))
    return step


# measuring ---------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def resident_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class PeakMemory:
    """Peak memory of the enclosed code: CUDA ``max_memory_allocated``, or on a CPU the
    growth of the process's resident set (sampled every millisecond)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak = float('nan')

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            return self
        gc.collect()
        try:  # hand freed heap back, so that the baseline is what is really in use
            ctypes.CDLL('libc.so.6').malloc_trim(0)
        except OSError:
            pass
        self._base = self._max = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self._max = max(self._max, resident_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            sync(self.device)
            self.peak = float(torch.cuda.max_memory_allocated(self.device))
            return
        self._stop.set()
        self._thread.join()
        self.peak = float(max(self._max, resident_bytes()) - self._base)


def is_oom(err: BaseException) -> bool:
    return isinstance(err, torch.cuda.OutOfMemoryError) or 'out of memory' in str(err)


def measure(steps: Dict[str, Tuple[Callable[[], None], int]], device: torch.device,
            warmup: int, iters: int, log: Callable[[str], None]) -> Dict[str, dict]:
    """Time each step (name -> (step, images per step)), interleaving the paths iteration
    by iteration so that they share the machine's conditions. A path that runs out of
    memory is reported as such and dropped."""
    results = {name: dict(times=[], peak=0.0, oom=False) for name in steps}

    def run(name: str) -> Optional[float]:
        step = steps[name][0]
        try:
            with PeakMemory(device) as mem:
                start = time.perf_counter()
                step()
                sync(device)
                elapsed = time.perf_counter() - start
        except RuntimeError as err:
            if not is_oom(err):
                raise
            results[name]['oom'] = True
        if results[name]['oom']:  # outside the handler: the failed step's tensors are free
            gc.collect()
            if device.type == 'cuda':
                torch.cuda.empty_cache()
            print(f'  {name}: out of memory', flush=True)
            return None
        results[name]['peak'] = max(results[name]['peak'], mem.peak)
        return elapsed

    for name in steps:
        for i in range(warmup):
            if results[name]['oom']:
                break
            elapsed = run(name)
            if elapsed is not None:
                log(f'  {name}: warm-up {i + 1}/{warmup} {elapsed:.3f} s')
    for i in range(iters):
        for name in steps:
            if not results[name]['oom']:
                elapsed = run(name)
                if elapsed is not None:
                    results[name]['times'].append(elapsed)
        log(f'  iteration {i + 1}/{iters}: ' + ', '.join(
            f'{n} {r["times"][-1]:.3f} s' for n, r in results.items() if r['times']))
    for name, res in results.items():
        images = steps[name][1]
        res['seconds'] = statistics.median(res['times']) if res['times'] else None
        res['img_per_s'] = images / res['seconds'] if res['seconds'] else None
    return results


def count_flops_per_image(step: Callable[[], None], images: int) -> float:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops() / images


# reporting ---------------------------------------------------------------------------------
def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        with open('/proc/cpuinfo') as f:
            model = next((line.split(':', 1)[1].strip() for line in f
                          if line.startswith('model name')), 'CPU')
    except OSError:
        model = 'CPU'
    return f'{model} ({torch.get_num_threads()} threads)'


def arch_label(model_cfg: dict) -> str:
    arch = model_cfg['backbone'].get('arch', 'vit_h')
    if isinstance(arch, str):
        return arch
    return f"embed {arch['embed_dim']}, depth {arch['depth']}"


def fmt(value: Optional[float], spec: str = '.2f', oom: bool = False) -> str:
    if oom:
        return 'OOM'
    return '-' if value is None else format(value, spec)


def describe_fast(model_cfg: dict) -> str:
    backbone = model_cfg['backbone']
    keys = [f"noise_pass={model_cfg.get('noise_pass', 'batched')}"]
    defaults = dict(attn_impl='sdpa', compute_dtype='float32', grad_checkpointing=False,
                    compile=False)
    keys += [f'{k}={backbone.get(k, defaults[k])}' for k in FAST_BACKBONE_KEYS]
    return ', '.join(keys)


def print_table(rows: List[dict], mem_label: str) -> None:
    head = (f"{'path':<34}{'train img/s':>12}{'train ' + mem_label:>17}{'train TFLOP/s':>15}"
            f"{'infer img/s':>13}{'infer ' + mem_label:>17}{'infer TFLOP/s':>15}")
    print(head)
    print('-' * len(head))
    for r in rows:
        print(f"{r['path']:<34}{r['train']:>12}{r['train_mem']:>17}{r['train_tflops']:>15}"
              f"{r['infer']:>13}{r['infer_mem']:>17}{r['infer_tflops']:>15}")


def ratio(a: Optional[float], b: Optional[float]) -> str:
    return f'{a / b:.2f}x' if a and b else '-'


# the two modes -----------------------------------------------------------------------------
def compare(args: argparse.Namespace, cfg: Config, device: torch.device) -> dict:
    fast_cfg = model_config(cfg, img_size=args.img_size, sam_checkpoint=args.sam_checkpoint)
    ref_cfg = reference_config(fast_cfg)
    img_size = fast_cfg['backbone'].get('img_size', 1024)
    batch, ref_batch = args.batch_size, args.reference_batch_size or args.batch_size
    log = print if args.verbose else (lambda msg: None)
    print(f'DADF benchmark of {args.config}')
    print(f'device: {device_name(device)} | torch {torch.__version__} | arch '
          f"{arch_label(fast_cfg)} | {img_size} px | batch {batch}"
          f" (reference {ref_batch}) | noise_std {fast_cfg.get('noise_std', 1e-3):g}")
    print(f'fast path: {describe_fast(fast_cfg)}')
    print(f'reference: {describe_fast(ref_cfg)}')

    print('building models ...', flush=True)
    fast = build_model(fast_cfg, device, args.seed, args.checkpoint, args.adapter_std)
    ref = build_model(ref_cfg, device, args.seed, args.checkpoint, args.adapter_std)
    ref.load_state_dict(fast.state_dict())
    inputs, samples = make_batch(max(batch, ref_batch), img_size, device, args.seed)

    print('RGA signal check ...', flush=True)
    fidelity = rga_signal_fidelity(fast, ref, inputs[:min(batch, 2)],
                                   [s.metainfo for s in samples[:min(batch, 2)]])

    print('counting FLOPs of the reference path (one image) ...', flush=True)
    flops_infer = count_flops_per_image(infer_step(ref, inputs[:1], samples[:1]), 1)
    counted = copy.deepcopy(ref)
    flops_train = count_flops_per_image(train_step(counted, inputs[:1], samples[:1]), 1)
    del counted

    warmup = max(args.warmup, 1) if fast_cfg['backbone'].get('compile') else args.warmup
    results = {}
    if not args.skip_inference:
        print(f'inference: {warmup} warm-up + {args.iters} timed iterations ...', flush=True)
        steps = {'fast': (infer_step(fast, inputs[:batch], samples[:batch]), batch),
                 'reference': (infer_step(ref, inputs[:ref_batch], samples[:ref_batch]),
                               ref_batch)}
        if args.skip_reference:
            del steps['reference']
        if not args.no_sam_encoder and not args.skip_reference:
            torch.manual_seed(args.seed)
            with torch.device(device):
                encoder = sam_image_encoder(fast_cfg).eval()
            steps['sam_encoder'] = (sam_encoder_step(encoder, inputs[:ref_batch],
                                                     fast_cfg.get('noise_std', 1e-3)),
                                    ref_batch)
        results['infer'] = measure(steps, device, warmup, args.iters, log)
        steps.clear()
        gc.collect()
    if not args.skip_training:
        print(f'training: {warmup} warm-up + {args.iters} timed iterations ...', flush=True)
        steps = {'fast': (train_step(fast, inputs[:batch], samples[:batch]), batch),
                 'reference': (train_step(ref, inputs[:ref_batch], samples[:ref_batch]),
                               ref_batch)}
        if args.skip_reference:
            del steps['reference']
        results['train'] = measure(steps, device, warmup, args.iters, log)
        train_ref_batch = ref_batch
        while (not args.skip_reference and results['train']['reference']['oom']
               and train_ref_batch > 1):
            train_ref_batch //= 2
            print(f'  reference: retrying training at batch {train_ref_batch}', flush=True)
            steps = {'reference': (train_step(ref, inputs[:train_ref_batch],
                                              samples[:train_ref_batch]), train_ref_batch)}
            results['train'].update(measure(steps, device, warmup, args.iters, log))
        if not args.skip_reference:
            results['train']['reference']['batch'] = train_ref_batch

    mem_label = 'peak GiB' if device.type == 'cuda' else '+RSS GiB'
    rows = []
    for name, label in (('reference', 'reference (SAM attn, fp32, 2 pass)'),
                        ('fast', 'fast (config)'),
                        ('sam_encoder', 'segment_anything encoder x2')):
        tr = results.get('train', {}).get(name)
        inf = results.get('infer', {}).get(name)
        if tr is None and inf is None:
            continue
        if name == 'reference' and tr and tr.get('batch', ref_batch) != ref_batch:
            label += f' (train batch {tr["batch"]})'
        row = dict(path=label)
        for phase, res, flops in (('train', tr, flops_train), ('infer', inf, flops_infer)):
            ips = res['img_per_s'] if res else None
            oom = bool(res and res['oom'])
            row[phase] = fmt(ips, oom=oom)
            row[phase + '_mem'] = fmt(res['peak'] / GiB if res and res['times'] else None,
                                      '.3f', oom)
            row[phase + '_tflops'] = fmt(ips * flops / 1e12 if ips and name != 'sam_encoder'
                                         else None, '.3f', oom)
        rows.append(row)

    def get(phase: str, name: str, key: str) -> Optional[float]:
        res = results.get(phase, {}).get(name)
        if not res or not res['times']:
            return None
        return res['img_per_s'] if key == 'ips' else res['peak']

    rows.append(dict(path='fast / reference',
                     train=ratio(get('train', 'fast', 'ips'), get('train', 'reference', 'ips')),
                     train_mem=ratio(get('train', 'fast', 'mem'),
                                     get('train', 'reference', 'mem')),
                     train_tflops='',
                     infer=ratio(get('infer', 'fast', 'ips'), get('infer', 'reference', 'ips')),
                     infer_mem=ratio(get('infer', 'fast', 'mem'),
                                     get('infer', 'reference', 'mem')),
                     infer_tflops=''))
    print()
    print_table(rows, mem_label)
    print(f'model FLOPs per image (reference count): training step '
          f'{flops_train / 1e12:.4f} TFLOP, inference {flops_infer / 1e12:.4f} TFLOP; '
          'img/s are medians')
    verdict = 'ok' if fidelity['s_corr'] >= 0.99 else 'BELOW TARGET: RGA sees rounding noise'
    if fidelity['nonfinite']:
        verdict = (f"{fidelity['nonfinite']} inf/NaN values in F or S: the compute dtype "
                   'overflows; use bfloat16 or float32')
    print(f"RGA signal: corr(S_fast, S_fp32) = {fidelity['s_corr']:.5f} (target >= 0.99, "
          f"{verdict}); |S| relative error {fidelity['s_rel_err']:.4f}; F relative error "
          f"{fidelity['f_rel_err']:.2e}")
    summary = dict(config=args.config, device=device_name(device), torch=torch.__version__,
                   img_size=img_size, batch_size=batch, reference_batch_size=ref_batch,
                   fast=describe_fast(fast_cfg), flops_per_image=dict(
                       train=flops_train, infer=flops_infer),
                   fidelity=fidelity, rows=rows,
                   results={phase: {n: {k: v for k, v in r.items()} for n, r in res.items()}
                            for phase, res in results.items()})
    return summary


def memory_table(args: argparse.Namespace, cfg: Config, device: torch.device) -> dict:
    """Peak memory and img/s of the fast path's training step per arch x size x batch."""
    log = print if args.verbose else (lambda msg: None)
    rows = []
    archs = args.archs or ['config']
    total = len(archs) * len(args.sizes) * len(args.batch_sizes)
    print(f'memory table on {device_name(device)} ({total} settings)', flush=True)
    for arch in archs:
        for size in args.sizes:
            for batch in args.batch_sizes:
                model_cfg = model_config(cfg, img_size=size,
                                         arch=None if arch == 'config' else arch)
                label = arch if arch != 'config' else arch_label(model_cfg)
                print(f'  {label} {size} px batch {batch} ...', flush=True)
                try:
                    model = build_model(model_cfg, device, args.seed)
                except RuntimeError as err:
                    if not is_oom(err):
                        raise
                    model = None
                res = dict(oom=True, peak=0.0, img_per_s=None, times=[])
                if model is not None:
                    inputs, samples = make_batch(batch, size, device, args.seed)
                    res = measure({'fast': (train_step(model, inputs, samples), batch)},
                                  device, max(args.warmup, 1), args.iters, log)['fast']
                del model
                gc.collect()
                if device.type == 'cuda':
                    torch.cuda.empty_cache()
                rows.append(dict(arch=label, size=size, batch=batch, oom=res['oom'],
                                 peak_gib=res['peak'] / GiB if res['times'] else None,
                                 img_per_s=res['img_per_s']))
    mem_label = 'peak memory (GiB)' if device.type == 'cuda' else 'RSS growth (GiB)'
    print()
    print(f'Training step of the fast path ({describe_fast(model_config(cfg))}) on '
          f'{device_name(device)}, torch {torch.__version__}:')
    print()
    print(f'| arch | input | batch | {mem_label} | img/s |')
    print('|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['arch']} | {r['size']} | {r['batch']} | "
              f"{fmt(r['peak_gib'], '.2f', r['oom'])} | {fmt(r['img_per_s'], '.2f', r['oom'])} |")
    return dict(config=args.config, device=device_name(device), rows=rows)


#: Ways to obtain S, against the float32 S of two separate views at the same sigma:
#: (label, model keys, backbone keys, sigma multiple).
PRECISION_STRATEGIES = (
    ('two views in one batch, float32', dict(noise_pass='batched'), {}, 1),
    ('two views in one batch, bfloat16', dict(noise_pass='batched'),
     dict(compute_dtype='bfloat16'), 1),
    ('two views in one batch, float16', dict(noise_pass='batched'),
     dict(compute_dtype='float16'), 1),
    ('two views, bfloat16, sigma x10', dict(noise_pass='batched'),
     dict(compute_dtype='bfloat16'), 10),
    ('two views, bfloat16, sigma x30', dict(noise_pass='batched'),
     dict(compute_dtype='bfloat16'), 30),
    ('two views, float16, sigma x10', dict(noise_pass='batched'),
     dict(compute_dtype='float16'), 10),
    ('jvp, float32', dict(noise_pass='jvp'), {}, 1),
    ('jvp, bfloat16', dict(noise_pass='jvp'), dict(compute_dtype='bfloat16'), 1),
    ('jvp, float16', dict(noise_pass='jvp'), dict(compute_dtype='float16'), 1),
)


def precision_study(args: argparse.Namespace, cfg: Config, device: torch.device) -> dict:
    """corr(S, S_fp32) of every strategy in ``PRECISION_STRATEGIES`` on one batch."""
    base = model_config(cfg, img_size=args.img_size, sam_checkpoint=args.sam_checkpoint)
    base['check_rga_precision'] = False
    img_size = base['backbone'].get('img_size', 1024)
    sigma = base.get('noise_std', 1e-3)
    inputs, samples = make_batch(args.batch_size, img_size, device, args.seed)
    metas = [s.metainfo for s in samples]
    print(f'RGA precision study of {args.config} on {device_name(device)}: arch '
          f"{arch_label(base)}, {img_size} px, batch {args.batch_size}, "
          f'adapter output std {args.adapter_std:g}', flush=True)
    references: Dict[int, torch.nn.Module] = {}
    rows = []
    strategies = [st for st in PRECISION_STRATEGIES
                  if not args.strategies or any(word in st[0] for word in args.strategies)]
    for label, keys, backbone_keys, multiple in strategies:
        if multiple not in references:
            ref_cfg = reference_config(base)
            ref_cfg['noise_std'] = sigma * multiple
            references[multiple] = build_model(ref_cfg, device, args.seed, args.checkpoint,
                                               args.adapter_std)
        ref = references[multiple]
        model_cfg = copy.deepcopy(base)
        model_cfg.update(keys, noise_std=sigma * multiple)
        model_cfg['backbone'].update(dict(compute_dtype='float32', compile=False),
                                     **backbone_keys)
        model = build_model(model_cfg, device, args.seed, args.checkpoint, args.adapter_std)
        model.load_state_dict(ref.state_dict())
        res = rga_signal_fidelity(model, ref, inputs, metas)
        rows.append(dict(strategy=label, sigma=sigma * multiple, **res))
        print(f'  {label}: corr {res["s_corr"]:.5f}', flush=True)
        del model
    print()
    print('| how S is computed | sigma | corr(S, S_fp32) | rel. error of S |')
    print('|---|---|---|---|')
    for r in rows:
        print(f"| {r['strategy']} | {r['sigma']:g} | {r['s_corr']:.4f} | {r['s_rel_err']:.4f} |")
    return dict(config=args.config, device=device_name(device), img_size=img_size,
                adapter_std=args.adapter_std, rows=rows)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a DADF config')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--reference-batch-size', type=int, default=None,
                        help='batch of the reference path (default: --batch-size)')
    parser.add_argument('--img-size', type=int, default=None,
                        help="input size (default: the config's backbone.img_size)")
    parser.add_argument('--iters', type=int, default=10, help='timed iterations per path')
    parser.add_argument('--warmup', type=int, default=3, help='untimed iterations per path')
    parser.add_argument('--device', default=None, help='cuda or cpu (default: cuda if any)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads of torch (on a shared machine 1 gives stable timings)')
    parser.add_argument('--checkpoint', default=None, help='a trained DADF checkpoint')
    parser.add_argument('--sam-checkpoint', default=None, help='an official SAM checkpoint')
    parser.add_argument('--skip-training', action='store_true')
    parser.add_argument('--skip-inference', action='store_true')
    parser.add_argument('--skip-reference', action='store_true',
                        help='time the fast path only (the RGA check still runs)')
    parser.add_argument('--no-sam-encoder', action='store_true',
                        help="do not time segment_anything's encoder")
    parser.add_argument('--memory-table', action='store_true',
                        help='print the arch x size x batch memory table instead')
    parser.add_argument('--archs', nargs='+', default=None,
                        help="memory table archs: vit_b vit_l vit_h or 'config'")
    parser.add_argument('--sizes', nargs='+', type=int, default=[512, 1024])
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 2, 4])
    parser.add_argument('--precision-study', action='store_true',
                        help='print corr(S, S_fp32) of every way to compute S instead')
    parser.add_argument('--strategies', nargs='+', default=None,
                        help='precision study: only strategies whose label contains one of '
                        "these words (e.g. bfloat16 'jvp, float32')")
    parser.add_argument('--adapter-std', type=float, default=0.02,
                        help='std of the random adapter outputs (random weights only; 0 '
                        'keeps the adapters the identity, as at the start of training)')
    parser.add_argument('--json', default=None, help='also write the results to this file')
    parser.add_argument('--verbose', action='store_true', help='log every iteration')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_table:
        summary = memory_table(args, cfg, device)
    elif args.precision_study:
        summary = precision_study(args, cfg, device)
    else:
        summary = compare(args, cfg, device)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1, default=str)
    return summary


if __name__ == '__main__':
    main()
