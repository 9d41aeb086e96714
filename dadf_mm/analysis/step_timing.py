"""Timing, peak memory and FLOPs of training or inference steps, and how the benchmark tools
print them.

Steps are callables without arguments (see :mod:`dadf_mm.analysis.benchmark_cases`).
:func:`measure` times several of them interleaved, iteration by iteration, so that the
paths it compares share the machine's conditions.
"""
import ctypes
import gc
import os
import statistics
import threading
import time
from typing import Callable, Dict, Optional, Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode

GiB = 1024**3

#: a step to time and the number of images it processes
TimedStep = Tuple[Callable[[], None], int]


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing on a CPU.

    Args:
        device (torch.device): The device.
    """
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def resident_bytes() -> int:
    """The resident set of this process, in bytes (Linux).

    Returns:
        int: The resident set size, from ``/proc/self/statm``.
    """
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class PeakMemory:
    """Peak memory of the enclosed code, in bytes, as :attr:`peak` after the block.

    CUDA: ``max_memory_allocated``. CPU: the growth of the process's resident set, sampled
    every millisecond, over its size on entry (after freed heap is handed back).

    Args:
        device (torch.device): The device whose memory is measured.
    """

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
    """Whether ``err`` says the device ran out of memory.

    Args:
        err (BaseException): The error a step raised.

    Returns:
        bool: True for a CUDA ``OutOfMemoryError`` or a message with ``'out of memory'``.
    """
    return isinstance(err, torch.cuda.OutOfMemoryError) or 'out of memory' in str(err)


def free_device_memory(device: torch.device) -> None:
    """Collect garbage and, on CUDA, return cached blocks.

    Args:
        device (torch.device): The device.
    """
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def _run_once(step: Callable[[], None], device: torch.device
              ) -> Tuple[Optional[float], float]:
    """(seconds, peak bytes) of one call of ``step``; seconds is None if it ran out of
    memory."""
    oom = False
    try:
        with PeakMemory(device) as mem:
            start = time.perf_counter()
            step()
            sync(device)
            elapsed = time.perf_counter() - start
    except RuntimeError as err:
        if not is_oom(err):
            raise
        oom = True
    if oom:  # outside the handler: the failed step's tensors are free
        free_device_memory(device)
        return None, 0.0
    return elapsed, mem.peak


def measure(steps: Dict[str, TimedStep], *, device: torch.device, warmup: int, iters: int,
            log: Callable[[str], None] = lambda msg: None) -> Dict[str, dict]:
    """Time each step, interleaving the paths iteration by iteration.

    A path that runs out of memory is reported as such (printed) and dropped.

    Args:
        steps (dict[str, tuple]): Path name -> (step, images per step).
        device (torch.device): Where the steps run.
        warmup (int): Untimed calls per path, before the timed ones.
        iters (int): Timed calls per path.
        log (Callable[[str], None]): Receives a line per call. Defaults to silence.

    Returns:
        dict[str, dict]: Per path: ``times`` (seconds of each timed call), ``peak`` (the
        largest peak memory in bytes), ``oom`` (bool), ``seconds`` (the median, or None)
        and ``img_per_s`` (images per median step, or None).
    """
    results = {name: dict(times=[], peak=0.0, oom=False) for name in steps}

    def run(name: str) -> Optional[float]:
        elapsed, peak = _run_once(steps[name][0], device)
        if elapsed is None:
            results[name]['oom'] = True
            print(f'  {name}: out of memory', flush=True)
            return None
        results[name]['peak'] = max(results[name]['peak'], peak)
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
    """FLOPs of one call of ``step`` (``FlopCounterMode``) divided by ``images``.

    Args:
        step (Callable[[], None]): The step; it runs once.
        images (int): The number of images it processes.

    Returns:
        float: FLOPs per image.
    """
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops() / images


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name with torch's thread count and what its
    vector units do with bfloat16 (CPUs of one name differ: AVX2 only, AVX512-BF16, AMX).

    Args:
        device (torch.device): The device.

    Returns:
        str: E.g. ``'NVIDIA H100 80GB HBM3'`` or ``'AMD EPYC 7B13 (2 threads; AVX2, no
        native bfloat16)'``.
    """
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        with open('/proc/cpuinfo') as f:
            model = next((line.split(':', 1)[1].strip() for line in f
                          if line.startswith('model name')), 'CPU')
    except OSError:
        model = 'CPU'
    return f'{model} ({torch.get_num_threads()} threads; {cpu_bfloat16_support()})'


#: what :func:`cpu_bfloat16_support` says of a CPU that computes bfloat16 natively
NATIVE_BFLOAT16 = ('AMX', 'AVX512-BF16')


def cpu_bfloat16_support() -> str:
    """What this CPU's vector units offer bfloat16 products, as torch sees them.

    Returns:
        str: ``'AMX'``, ``'AVX512-BF16'``, or the vector capability (``'AVX2'``...) with
        ``'no native bfloat16'`` (bfloat16 is then emulated, many times slower than float32).
    """
    if getattr(torch.cpu, '_is_amx_tile_supported', lambda: False)():
        return 'AMX'
    if getattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)():
        return 'AVX512-BF16'
    return f'{torch.backends.cpu.get_cpu_capability()}, no native bfloat16'


def fmt(value: Optional[float], spec: str = '.2f', *, oom: bool = False) -> str:
    """``value`` formatted with ``spec``; ``'OOM'`` if it ran out of memory, ``'-'`` if
    None.

    Args:
        value (float, optional): The number.
        spec (str): A format spec. Defaults to '.2f'.
        oom (bool): The measurement ran out of memory. Defaults to False.

    Returns:
        str: The table cell.
    """
    if oom:
        return 'OOM'
    return '-' if value is None else format(value, spec)


def ratio(a: Optional[float], b: Optional[float]) -> str:
    """``a / b`` as ``'1.25x'``, or ``'-'`` when either is missing or zero.

    Args:
        a (float, optional): The numerator.
        b (float, optional): The denominator.

    Returns:
        str: The table cell.
    """
    return f'{a / b:.2f}x' if a and b else '-'
