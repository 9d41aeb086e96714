"""Speed, memory and RGA fidelity of a DADF config: its fast path against the reference.

    python tools/analysis_tools/benchmark_speed.py CONFIG [--batch-size 4] [--img-size 1024]
        [--iters 10] [--warmup 3] [--device cuda] [--cfg-options KEY=VALUE ...]

Two models are built from CONFIG with the same random weights (or ``--checkpoint``): the
config's model as it is (fast) and the same model with every fast key off (reference;
``dadf_mm.analysis.benchmark_cases``). For each, in the same run and interleaved iteration
by iteration: training img/s (a full step: both views, all losses, backward, AdamW step),
inference img/s (``predict``: both views, heads, resizing), peak memory (CUDA:
``max_memory_allocated``; CPU: growth of the resident set over the step) and achieved
TFLOP/s, counted as the reference step's FLOPs (``FlopCounterMode``) per second so that the
rows compare. A third row times ``segment_anything``'s ``ImageEncoderViT`` itself (float32,
two passes, inference). Then the RGA check: the Pearson correlation of the fast path's
``S = |F_gau - F|`` with the reference's float32 ``S`` on the same input and noise (target
>= 0.99). ``--cpu-path`` times the path the analyst's tools choose on this CPU instead
of the config's keys. Weights are random unless ``--checkpoint`` (a DADF checkpoint) or
``--sam-checkpoint`` is given: speed does not depend on them, the RGA correlation does a
little.
"""
import argparse
import copy
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config

import dadf_mm  # noqa: F401
from dadf_mm.analysis.benchmark_cases import (
    arch_label,
    benchmark_model_config,
    build_benchmark_model,
    describe_fast,
    infer_step,
    make_batch,
    reference_config,
    sam_encoder_step,
    sam_image_encoder,
    train_step,
)
from dadf_mm.analysis.step_timing import (
    GiB,
    count_flops_per_image,
    device_name,
    fmt,
    free_device_memory,
    measure,
    ratio,
)
from dadf_mm.apis.cpu_path import EXACT_SETTINGS, FAST_SETTINGS, native_bfloat16
from dadf_mm.models.utils.rga_fidelity import rga_signal_fidelity

from benchmark_setup import (
    add_model_arguments,
    benchmark_parser,
    run_benchmark,
)

ROW_LABELS = (('reference', 'reference (SAM attn, fp32, 2 pass)'), ('fast', 'fast (config)'),
              ('sam_encoder', 'segment_anything encoder x2'))


@dataclass
class BenchmarkRun:
    """The two paths and what they run on: ``batch`` / ``ref_batch`` of ``inputs`` and
    ``samples`` (made for the larger), ``warmup`` + ``iters`` calls per path."""
    fast: torch.nn.Module
    reference: torch.nn.Module
    fast_cfg: dict
    inputs: torch.Tensor
    samples: list
    batch: int
    ref_batch: int
    device: torch.device
    warmup: int
    iters: int
    log: Callable[[str], None]

    def steps(self, make_step: Callable, *, paths: Sequence[str], ref_batch: int) -> dict:
        """``make_step``'s step (``train_step``, ``infer_step``) of each of ``paths``
        (``'fast'``, ``'reference'``)."""
        models = dict(fast=(self.fast, self.batch), reference=(self.reference, ref_batch))
        steps = {}
        for name in paths:
            model, size = models[name]
            steps[name] = (make_step(model, self.inputs[:size], self.samples[:size]), size)
        return steps

    def measure(self, steps: dict) -> Dict[str, dict]:
        """:func:`measure` of ``steps`` with this run's settings."""
        return measure(steps, device=self.device, warmup=self.warmup, iters=self.iters,
                       log=self.log)


def time_inference(run: BenchmarkRun, *, reference: bool, sam_encoder: bool, seed: int
                   ) -> Dict[str, dict]:
    """Inference of the fast path, the reference and ``segment_anything``'s encoder."""
    print(f'inference: {run.warmup} warm-up + {run.iters} timed iterations ...', flush=True)
    paths = ('fast', 'reference') if reference else ('fast', )
    steps = run.steps(infer_step, paths=paths, ref_batch=run.ref_batch)
    if reference and sam_encoder:
        torch.manual_seed(seed)
        with torch.device(run.device):
            encoder = sam_image_encoder(run.fast_cfg).eval()
        sigma = (run.fast_cfg.get('noise') or {}).get('std', 1e-3)
        steps['sam_encoder'] = (sam_encoder_step(encoder, run.inputs[:run.ref_batch], sigma),
                                run.ref_batch)
    return run.measure(steps)


def time_training(run: BenchmarkRun, *, reference: bool) -> Dict[str, dict]:
    """Training of the fast path and the reference; the reference retries at half its batch
    while it runs out of memory."""
    print(f'training: {run.warmup} warm-up + {run.iters} timed iterations ...', flush=True)
    paths = ('fast', 'reference') if reference else ('fast', )
    results = run.measure(run.steps(train_step, paths=paths, ref_batch=run.ref_batch))
    if not reference:
        return results
    ref_batch = run.ref_batch
    while results['reference']['oom'] and ref_batch > 1:
        ref_batch //= 2
        print(f'  reference: retrying training at batch {ref_batch}', flush=True)
        results.update(run.measure(run.steps(train_step, paths=('reference', ),
                                             ref_batch=ref_batch)))
    results['reference']['batch'] = ref_batch
    return results


def table_rows(results: Dict[str, dict], *, flops: Dict[str, float], ref_batch: int
               ) -> List[dict]:
    """The printed table's rows.

    Args:
        results (dict[str, dict]): Phase (``'train'``, ``'infer'``) -> :func:`measure`'s
            results.
        flops (dict[str, float]): Phase -> the reference step's FLOPs per image.
        ref_batch (int): The reference's batch (a training row at another says so).

    Returns:
        list[dict]: One row per path (``path``; per phase img/s, memory in GiB and
        TFLOP/s, formatted), then the fast / reference ratios.
    """
    rows = []
    for name, label in ROW_LABELS:
        tr, inf = results.get('train', {}).get(name), results.get('infer', {}).get(name)
        if tr is None and inf is None:
            continue
        if name == 'reference' and tr and tr.get('batch', ref_batch) != ref_batch:
            label += f' (train batch {tr["batch"]})'
        row = dict(path=label)
        for phase, res in (('train', tr), ('infer', inf)):
            ips = res['img_per_s'] if res else None
            oom = bool(res and res['oom'])
            row[phase] = fmt(ips, oom=oom)
            row[phase + '_mem'] = fmt(res['peak'] / GiB if res and res['times'] else None,
                                      '.3f', oom=oom)
            row[phase + '_tflops'] = fmt(ips * flops[phase] / 1e12
                                         if ips and name != 'sam_encoder' else None,
                                         '.3f', oom=oom)
        rows.append(row)

    def get(phase: str, name: str, key: str) -> Optional[float]:
        res = results.get(phase, {}).get(name)
        if not res or not res['times']:
            return None
        return res['img_per_s'] if key == 'ips' else res['peak']

    ratios = dict(path='fast / reference', train_tflops='', infer_tflops='')
    for phase in ('train', 'infer'):
        ratios[phase] = ratio(get(phase, 'fast', 'ips'), get(phase, 'reference', 'ips'))
        ratios[phase + '_mem'] = ratio(get(phase, 'fast', 'mem'),
                                       get(phase, 'reference', 'mem'))
    rows.append(ratios)
    return rows


def print_report(rows: List[dict], *, mem_label: str, flops: Dict[str, float],
                 fidelity: dict) -> None:
    """The table, the FLOP count and the RGA check's verdict."""
    head = (f"{'path':<34}{'train img/s':>12}{'train ' + mem_label:>17}{'train TFLOP/s':>15}"
            f"{'infer img/s':>13}{'infer ' + mem_label:>17}{'infer TFLOP/s':>15}")
    print()
    print(head)
    print('-' * len(head))
    for r in rows:
        print(f"{r['path']:<34}{r['train']:>12}{r['train_mem']:>17}{r['train_tflops']:>15}"
              f"{r['infer']:>13}{r['infer_mem']:>17}{r['infer_tflops']:>15}")
    print(f"model FLOPs per image (reference count): training step "
          f"{flops['train'] / 1e12:.4f} TFLOP, inference {flops['infer'] / 1e12:.4f} TFLOP; "
          'img/s are medians')
    verdict = 'ok' if fidelity['s_corr'] >= 0.99 else 'BELOW TARGET: RGA sees rounding noise'
    if fidelity['nonfinite']:
        verdict = (f"{fidelity['nonfinite']} inf/NaN values in F or S: the compute dtype "
                   'overflows; use bfloat16 or float32')
    print(f"RGA signal: corr(S_fast, S_fp32) = {fidelity['s_corr']:.5f} (target >= 0.99, "
          f"{verdict}); |S| relative error {fidelity['s_rel_err']:.4f}; F relative error "
          f"{fidelity['f_rel_err']:.2e}")


def compare(args: argparse.Namespace, cfg: Config, device: torch.device) -> dict:
    """Build both paths, check RGA's signal, count FLOPs, time both phases, print.

    Args:
        args (argparse.Namespace): The parsed arguments.
        cfg (Config): The config, ``--cfg-options`` merged.
        device (torch.device): Where the models run.

    Returns:
        dict: The summary: settings, ``flops_per_image``, ``fidelity``, the printed
        ``rows`` and per phase and path the raw ``results``.
    """
    fast_cfg = benchmark_model_config(cfg, img_size=args.img_size,
                                      sam_checkpoint=args.sam_checkpoint)
    if args.cpu_path:
        set_cpu_path(fast_cfg)
    ref_cfg = reference_config(fast_cfg)
    img_size = fast_cfg['backbone'].get('img_size', 1024)
    batch = args.batch_size
    ref_batch = args.reference_batch_size or batch
    print(f'DADF benchmark of {args.config}')
    print(f'device: {device_name(device)} | torch {torch.__version__} | arch '
          f"{arch_label(fast_cfg)} | {img_size} px | batch {batch}"
          f" (reference {ref_batch}) | noise std "
          f"{(fast_cfg.get('noise') or {}).get('std', 1e-3):g}")
    print(f'fast path: {describe_fast(fast_cfg)}')
    print(f'reference: {describe_fast(ref_cfg)}')

    print('building models ...', flush=True)
    build = dict(device=device, seed=args.seed, checkpoint=args.checkpoint,
                 adapter_std=args.adapter_std)
    fast = build_benchmark_model(fast_cfg, **build)
    ref = build_benchmark_model(ref_cfg, **build)
    ref.load_state_dict(fast.state_dict())
    inputs, samples = make_batch(max(batch, ref_batch), img_size, device=device, seed=args.seed)

    print('RGA signal check ...', flush=True)
    fidelity = rga_signal_fidelity(fast, ref, inputs[:min(batch, 2)],
                                   [s.metainfo for s in samples[:min(batch, 2)]])
    print('counting FLOPs of the reference path (one image) ...', flush=True)
    flops = dict(infer=count_flops_per_image(infer_step(ref, inputs[:1], samples[:1]), 1))
    counted = copy.deepcopy(ref)
    flops['train'] = count_flops_per_image(train_step(counted, inputs[:1], samples[:1]), 1)
    del counted

    run = BenchmarkRun(
        fast=fast, reference=ref, fast_cfg=fast_cfg, inputs=inputs, samples=samples,
        batch=batch, ref_batch=ref_batch, device=device, iters=args.iters,
        warmup=max(args.warmup, 1) if fast_cfg['backbone'].get('compile') else args.warmup,
        log=print if args.verbose else (lambda msg: None))
    results = {}
    if not args.skip_inference:
        results['infer'] = time_inference(run, reference=not args.skip_reference,
                                          sam_encoder=not args.no_sam_encoder, seed=args.seed)
        free_device_memory(device)
    if not args.skip_training:
        results['train'] = time_training(run, reference=not args.skip_reference)
    rows = table_rows(results, flops=flops, ref_batch=ref_batch)
    print_report(rows, mem_label='peak GiB' if device.type == 'cuda' else '+RSS GiB',
                 flops=flops, fidelity=fidelity)
    return dict(config=args.config, device=device_name(device), torch=torch.__version__,
                img_size=img_size, batch_size=batch, reference_batch_size=ref_batch,
                fast=describe_fast(fast_cfg), fidelity=fidelity,
                flops_per_image=dict(train=flops['train'], infer=flops['infer']),
                rows=rows, results=results)


def set_cpu_path(model_cfg: dict) -> None:
    """Set the encoder keys of the path the analyst's tools run on this CPU: the fast path
    where it computes bfloat16 natively, else the exact one (``dadf_mm.apis.cpu_path``;
    the benchmark measures corr(S) itself, so no start-up check).

    Args:
        model_cfg (dict): A DADF model config, changed in place.
    """
    settings = FAST_SETTINGS if native_bfloat16() else EXACT_SETTINGS
    model_cfg['noise'] = dict(model_cfg.get('noise') or {}, mode=settings['noise_mode'])
    model_cfg['backbone'].update({k: settings[k] for k in
                                  ('attn_impl', 'compute_dtype', 'tangent_dtype')})


def build_parser() -> argparse.ArgumentParser:
    """The benchmark tools' common arguments and this one's."""
    parser = benchmark_parser(__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument('--reference-batch-size', type=int, default=None,
                        help='batch of the reference path (default: --batch-size)')
    parser.add_argument('--iters', type=int, default=10, help='timed iterations per path')
    parser.add_argument('--warmup', type=int, default=3, help='untimed iterations per path')
    parser.add_argument('--cpu-path', action='store_true',
                        help="time the encoder path infer.py and the web page run on this CPU "
                        '(the fast path with native bfloat16, else the exact one) instead of '
                        "the config's keys")
    parser.add_argument('--skip-training', action='store_true')
    parser.add_argument('--skip-inference', action='store_true')
    parser.add_argument('--skip-reference', action='store_true',
                        help='time the fast path only (the RGA check still runs)')
    parser.add_argument('--no-sam-encoder', action='store_true',
                        help="do not time segment_anything's encoder")
    return parser


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the comparison; returns its summary (also written to ``--json``)."""
    return run_benchmark(build_parser(), compare, argv)


if __name__ == '__main__':
    main()
