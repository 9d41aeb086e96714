"""Which encoder path a DADF model runs on a CPU: the exact float32 one, or the fast one
(float32 with a bfloat16 forward-mode tangent), chosen once at start-up on the loaded
weights (:func:`choose_cpu_path`).

The fast path is faster only where the CPU computes bfloat16 natively (AVX512-BF16 or
AMX); elsewhere bfloat16 is emulated and many times slower, so the exact path runs. Its
``S = |F(x + e) - F(x)|`` is not exact, and how close it stays depends on the weights:
the check compares it with the exact path's ``S`` on a seeded probe image, and keeps the
fast path only when their correlation reaches the threshold (0.99) with nothing
non-finite. The verdict is cached per checkpoint file, config, torch and CPU
(``$DADF_MM_CACHE_DIR``, default ``~/.cache/dadf_mm``, in ``cpu_path/``), so a second
start does not pay the check.
"""
import hashlib
import json
import logging
import math
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from ..analysis.step_timing import NATIVE_BFLOAT16, cpu_bfloat16_support
from ..engine.atomic_files import write_text_atomically
from ..models.utils.rga_fidelity import pearson

#: the float32 reference encoder: two views in one batch, every product in float32
EXACT_SETTINGS: Dict[str, Any] = dict(noise_mode='batched', attn_impl='sdpa_folded',
                                      compute_dtype='float32', tangent_dtype=None)
#: the CPU fast path: ``F`` in float32 and its derivative along the noise in one
#: traversal, the derivative's products in bfloat16
FAST_SETTINGS: Dict[str, Any] = dict(noise_mode='jvp', attn_impl='sdpa_folded',
                                     compute_dtype='float32', tangent_dtype='bfloat16')
#: the lowest corr(S_fast, S_fp32) at which the fast path runs
DEFAULT_THRESHOLD = 0.99
#: help of the tools' ``--exact``
EXACT_HELP = ('run the exact float32 encoder on a CPU: no fast path, no start-up check '
              '(docs/inference.md)')
#: the probe image's name: it seeds the noise of both paths alike
PROBE_PATH = 'cpu_path_probe.png'
#: ``--cfg-options`` keys that set the encoder's path: given one, the config's path runs
ENCODER_PATH_KEYS = ('model.noise', 'model.noise.mode', 'model.backbone.attn_impl',
                     'model.backbone.compute_dtype', 'model.backbone.tangent_dtype')
PROBE_SEED = 0
CACHE_FOLDER = 'cpu_path'
#: the environment variable that chooses for every tool: ``auto`` (the default) or
#: ``exact`` (as ``--exact``)
PATH_VARIABLE = 'DADF_MM_CPU_PATH'
PATH_VARIABLE_VALUES = ('auto', 'exact')


@dataclass
class CPUPathChoice:
    """The encoder path chosen for a CPU, and why.

    Attributes:
        name (str): ``'fast'``, ``'exact'`` or ``'config'`` (the keys the user set).
        settings (dict): :data:`FAST_SETTINGS`, :data:`EXACT_SETTINGS`, or empty for
            ``'config'``.
        reason (str): why, in one sentence.
        s_corr (float, optional): corr(S_fast, S_fp32) on the loaded weights; None when
            not checked. Defaults to None.
        check_seconds (float, optional): how long the check took (when it ran, or when
            the cached verdict was made). Defaults to None.
        cached (bool): the verdict was read from the cache. Defaults to False.
    """

    name: str
    settings: Dict[str, Any]
    reason: str
    s_corr: Optional[float] = None
    check_seconds: Optional[float] = None
    cached: bool = False

    def summary(self) -> str:
        """The path and why, in words.

        Returns:
            str: e.g. ``'fast (float32, bfloat16 tangent; corr(S, S_fp32) = 0.9996 >= 0.99
            on these weights, checked in 41 s)'``.
        """
        details = self.reason
        if self.check_seconds is not None:
            seconds = self.check_seconds
            details += f', checked in {seconds:.1f} s' if seconds < 10 else \
                f', checked in {seconds:.0f} s'
            details += ' at an earlier start (cached)' if self.cached else ''
        if self.name == 'fast':
            return f'fast (float32, bfloat16 tangent; {details})'
        if self.name == 'config':
            return f'as the config sets it ({details})'
        return f'exact float32 ({details})'

    def log_line(self) -> str:
        """The line the tools log at start-up.

        Returns:
            str: ``'encoder path: '`` and :meth:`summary`.
        """
        return f'encoder path: {self.summary()}'

    def as_dict(self) -> dict:
        """The JSON-able choice (the cache file, ``model.json``).

        Returns:
            dict: ``name``, ``reason``, ``s_corr``, ``check_seconds``, ``cached``.
        """
        return dict(name=self.name, reason=self.reason, s_corr=self.s_corr,
                    check_seconds=self.check_seconds, cached=self.cached)


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX).

    Returns:
        bool: True where bfloat16 matrix products are not emulated.
    """
    return cpu_bfloat16_support() in NATIVE_BFLOAT16


def apply_encoder_settings(model: nn.Module, settings: Dict[str, Any]) -> None:
    """Switch a built DADF model's encoder path in place.

    Args:
        model (nn.Module): a DADF segmentor with a SAMViT backbone.
        settings (dict): ``noise_mode``, ``attn_impl``, ``compute_dtype`` and
            ``tangent_dtype`` (:data:`EXACT_SETTINGS`, :data:`FAST_SETTINGS`).
    """
    model.noise.mode = settings['noise_mode']
    backbone = model.backbone
    backbone.set_attn_impl(settings['attn_impl'])
    backbone.set_tangent_dtype(None)  # a tangent dtype needs a float32 encoder: unset first
    backbone.compute_dtype = settings['compute_dtype']
    backbone.set_tangent_dtype(settings['tangent_dtype'])


def cpu_path_cache_key(checkpoint: Optional[str], model_cfg: Any, *,
                       threshold: float = DEFAULT_THRESHOLD) -> Optional[str]:
    """The cache key of a verdict: what the check's result depends on.

    Args:
        checkpoint (str, optional): the loaded checkpoint file; None for initial weights.
        model_cfg (Any): the model's config (``cfg.model``), by its ``repr``.
        threshold (float): the check's threshold. Defaults to :data:`DEFAULT_THRESHOLD`.

    Returns:
        str | None: a hex digest; None without a checkpoint file (random weights are
        checked every time).
    """
    if not checkpoint:
        return None
    try:
        path = osp.realpath(checkpoint)
        stat = os.stat(path)
    except OSError:
        return None
    parts = [path, stat.st_size, stat.st_mtime_ns, repr(model_cfg), torch.__version__,
             native_bfloat16(), torch.backends.cpu.get_cpu_capability(), float(threshold)]
    return hashlib.sha256(json.dumps(parts, default=str).encode('utf-8')).hexdigest()


def cache_file(cache_key: str) -> str:
    """Where the verdict of ``cache_key`` is kept.

    Args:
        cache_key (str): from :func:`cpu_path_cache_key`.

    Returns:
        str: ``$DADF_MM_CACHE_DIR/cpu_path/<key>.json`` (default ``~/.cache/dadf_mm``).
    """
    root = os.environ.get('DADF_MM_CACHE_DIR') or osp.join(osp.expanduser('~'), '.cache',
                                                           'dadf_mm')
    return osp.join(root, CACHE_FOLDER, f'{cache_key}.json')


def encoder_keys_given(cfg_options: Optional[Dict[str, Any]]) -> List[str]:
    """The keys of ``cfg_options`` that set the encoder's path (:data:`ENCODER_PATH_KEYS`).

    Args:
        cfg_options (dict, optional): ``--cfg-options``.

    Returns:
        list[str]: those keys, in their order.
    """
    return [key for key in (cfg_options or {}) if key in ENCODER_PATH_KEYS]


def choose_cpu_path(model: nn.Module, *, exact: bool = False,
                    threshold: float = DEFAULT_THRESHOLD,
                    cache_key: Optional[str] = None,
                    given_keys: Sequence[str] = ()) -> CPUPathChoice:
    """Choose the encoder path of a DADF model on a CPU, and leave the model in it (eval
    mode).

    ``exact`` (or ``DADF_MM_CPU_PATH=exact``) or a CPU without native bfloat16: the
    exact path, unchecked. Else the cached
    verdict of ``cache_key`` if there is one, otherwise the check: ``S`` of a seeded probe
    image by both paths, same noise; the fast path when their correlation is at least
    ``threshold`` and both are finite, else the exact one with a warning.

    Args:
        model (nn.Module): a DADF segmentor on the CPU, its weights loaded.
        exact (bool): refuse the fast path (``--exact``). Defaults to False.
        threshold (float): the lowest corr(S_fast, S_fp32) for the fast path. Defaults to
            :data:`DEFAULT_THRESHOLD`.
        cache_key (str, optional): from :func:`cpu_path_cache_key`. Defaults to None (no
            cache).
        given_keys (Sequence[str]): encoder keys the user set, as
            :func:`encoder_keys_given` finds them: unless ``exact``, the model runs as
            configured, unchecked. Defaults to ().

    Returns:
        CPUPathChoice: the path and why.
    """
    model.eval()
    from_env = os.environ.get(PATH_VARIABLE, 'auto') or 'auto'
    if from_env not in PATH_VARIABLE_VALUES:
        raise ValueError(f'{PATH_VARIABLE}={from_env!r}: it must be one of '
                         f'{", ".join(PATH_VARIABLE_VALUES)} (or unset, which is auto)')
    if from_env == 'exact' and not exact:
        choice = exact_choice(f'{PATH_VARIABLE}=exact: no fast path, no start-up check')
        apply_encoder_settings(model, choice.settings)
        return choice
    if given_keys and not exact:
        return CPUPathChoice(name='config', settings={}, reason=(
            f'--cfg-options sets {", ".join(given_keys)}; no start-up check'))
    if exact:
        choice = exact_choice('asked for with --exact: no fast path, no start-up check')
    elif not native_bfloat16():
        choice = exact_choice('this CPU has no native bfloat16: AVX512-BF16 or AMX')
    elif getattr(model, 'with_neck', False) is False:
        choice = exact_choice('the model has no RGA: no noisy view to speed up')
    else:
        choice = read_cached(cache_key) if cache_key else None
        if choice is None:
            choice = check_fast_path(model, threshold=threshold)
            if cache_key:
                write_cached(cache_key, choice)
        if choice.name == 'exact':
            print_log(f'the CPU fast path would change RGA\'s signal on these weights '
                      f'({choice.reason}): running the exact float32 encoder instead; '
                      'pass --exact to skip this check', logger='current',
                      level=logging.WARNING)
    apply_encoder_settings(model, choice.settings)
    return choice


def exact_choice(reason: str) -> CPUPathChoice:
    """The exact path, unchecked, for ``reason``.

    Args:
        reason (str): why, one sentence.

    Returns:
        CPUPathChoice: the exact choice.
    """
    return CPUPathChoice(name='exact', settings=dict(EXACT_SETTINGS), reason=reason)


def probe_s(model: nn.Module, settings: Dict[str, Any]) -> torch.Tensor:
    """``S = |D|`` of the seeded probe image with the encoder in ``settings``.

    Args:
        model (nn.Module): a DADF segmentor with RGA, in eval mode.
        settings (dict): the encoder settings.

    Returns:
        Tensor: ``S``, float32.
    """
    apply_encoder_settings(model, settings)
    size = int(model.backbone.img_size)
    generator = torch.Generator().manual_seed(PROBE_SEED)
    device = next(model.parameters()).device
    probe = torch.randn(1, 3, size, size, generator=generator).to(device)
    with torch.no_grad():
        _, diff = model.encode(probe, [dict(img_path=PROBE_PATH)])
    return diff.abs().float()


def check_fast_path(model: nn.Module, *, threshold: float = DEFAULT_THRESHOLD
                    ) -> CPUPathChoice:
    """The check: corr(S_fast, S_fp32) on a seeded probe image and the model's weights.

    Args:
        model (nn.Module): a DADF segmentor with RGA, in eval mode.
        threshold (float): the lowest correlation for the fast path. Defaults to
            :data:`DEFAULT_THRESHOLD`.

    Returns:
        CPUPathChoice: fast when the correlation reaches ``threshold`` with both ``S``
        finite, else exact.
    """
    start = time.perf_counter()
    s_fast = probe_s(model, FAST_SETTINGS)
    s_exact = probe_s(model, EXACT_SETTINGS)
    seconds = time.perf_counter() - start
    finite = bool(torch.isfinite(s_fast).all()) and bool(torch.isfinite(s_exact).all())
    corr = pearson(s_fast, s_exact) if finite else float('nan')
    if finite and corr >= threshold:
        return CPUPathChoice(name='fast', settings=dict(FAST_SETTINGS), s_corr=corr,
                             reason=f'corr(S, S_fp32) = {corr:.4f} >= {threshold:g} on '
                             'these weights', check_seconds=seconds)
    why = (f'corr(S, S_fp32) = {corr:.4f} < {threshold:g}' if finite
           else 'its S is not finite')
    return CPUPathChoice(name='exact', settings=dict(EXACT_SETTINGS),
                         s_corr=corr if math.isfinite(corr) else None, check_seconds=seconds,
                         reason=f'the fast path\'s {why} on these weights')


def read_cached(cache_key: str) -> Optional[CPUPathChoice]:
    """The cached verdict of ``cache_key``; None when there is none or it is unreadable.

    Args:
        cache_key (str): from :func:`cpu_path_cache_key`.

    Returns:
        CPUPathChoice | None: the verdict, marked ``cached``.
    """
    try:
        with open(cache_file(cache_key), encoding='utf-8') as f:
            record = json.load(f)
        name, reason = record['name'], record['reason']
        s_corr, seconds = record['s_corr'], record['check_seconds']
        valid = (name in ('fast', 'exact') and isinstance(reason, str)
                 and (s_corr is None or (isinstance(s_corr, float) and math.isfinite(s_corr)))
                 and (seconds is None or isinstance(seconds, (int, float))))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not valid:
        return None
    settings = FAST_SETTINGS if name == 'fast' else EXACT_SETTINGS
    return CPUPathChoice(name=name, settings=dict(settings), reason=reason, s_corr=s_corr,
                         check_seconds=seconds, cached=True)


def write_cached(cache_key: str, choice: CPUPathChoice) -> None:
    """Keep ``choice`` as the verdict of ``cache_key`` (atomically; a folder that cannot
    be written is logged, not an error).

    Args:
        cache_key (str): from :func:`cpu_path_cache_key`.
        choice (CPUPathChoice): the checked verdict.
    """
    path = cache_file(cache_key)
    record = dict(choice.as_dict(), cached=False)
    try:
        write_text_atomically(json.dumps(record, indent=1) + '\n', path)
    except OSError as err:
        print_log(f'cannot keep the encoder path\'s verdict in {path} ({err}); the next '
                  'start checks again', logger='current', level=logging.WARNING)
