"""The noisy view's settings (``model.noise=dict(...)``) and its per-image seeded noise."""
import zlib
from typing import Mapping, Optional, Sequence

import torch
from torch import Tensor

NOISE_MODES = ('batched', 'separate', 'jvp')
NOISE_GENERATORS = ('cpu', 'device')
NOISE_KEYS = ('std', 'seed', 'mode', 'generator')


class NoiseSettings:
    """What ``model.noise`` says: how strong the noisy view is, how it is seeded and how
    the encoder sees it.

    Args:
        std (float): sigma of the Gaussian noise on the normalised input (paper: 1e-3).
            Defaults to 1e-3.
        seed (int): base seed of the per-image noise. Defaults to 0.
        mode (str): ``'batched'`` (clean and noisy view in one encoder batch),
            ``'separate'`` (two encoder calls) or ``'jvp'`` (``F`` and the first-order
            difference ``J_F(x) e`` in one traversal; the choice for a bf16 encoder).
            Defaults to 'batched'.
        generator (str): where the noise is drawn: ``'cpu'`` (the same noise on every
            machine) or ``'device'`` (the input's device: no host-side sampling and copy
            per image, other values). Defaults to 'cpu'.
    """

    def __init__(self, *, std: float = 1e-3, seed: int = 0, mode: str = 'batched',
                 generator: str = 'cpu') -> None:
        if mode not in NOISE_MODES:
            raise ValueError(f'model.noise.mode must be one of {NOISE_MODES}, got {mode!r}')
        if generator not in NOISE_GENERATORS:
            raise ValueError(f'model.noise.generator must be one of {NOISE_GENERATORS}, '
                             f'got {generator!r}')
        self.std = std
        self.seed = seed
        self.mode = mode
        self.generator = generator

    @classmethod
    def from_cfg(cls, noise: Optional[Mapping]) -> 'NoiseSettings':
        """The settings of a ``model.noise`` dict; an unknown key is refused by name.

        Args:
            noise (Mapping, optional): ``std``, ``seed``, ``mode``, ``generator``; None for
                the defaults.

        Returns:
            NoiseSettings: the settings.
        """
        noise = dict(noise or {})
        for key in noise:
            if key not in NOISE_KEYS:
                raise ValueError(f'model.noise has no key {key!r}: its keys are '
                                 f'{", ".join(NOISE_KEYS)}')
        return cls(**noise)

    def __repr__(self) -> str:
        return (f'NoiseSettings(std={self.std!r}, seed={self.seed!r}, mode={self.mode!r}, '
                f'generator={self.generator!r})')


def seeded_unit_noise(inputs: Tensor, batch_img_metas: Optional[Sequence[dict]], *,
                      seed: int, salt: str = '', on_device: bool = False) -> Tensor:
    """``N(0, 1)`` noise shaped like ``inputs``, each image's seeded from its path (or its
    index in the batch) and ``salt``, so it does not depend on the batch it came in.

    Args:
        inputs (Tensor): the normalised images (B, C, H, W).
        batch_img_metas (Sequence[dict], optional): the images' metas; ``img_path`` seeds
            each image's noise (else its index in the batch).
        seed (int): the base seed.
        salt (str): appended to each image's key (the training step). Defaults to ''.
        on_device (bool): draw on the input's device instead of the CPU.
            Defaults to False.

    Returns:
        Tensor: the unit noise, shaped, typed and placed like ``inputs``.
    """
    metas = batch_img_metas or [{}] * inputs.shape[0]
    device = inputs.device if on_device else torch.device('cpu')
    noise = []
    for i, meta in enumerate(metas):
        key = f"{meta.get('img_path', i)}{salt}".encode()
        gen = torch.Generator(device=device).manual_seed(seed ^ zlib.crc32(key))
        noise.append(torch.randn(inputs.shape[1:], generator=gen, dtype=torch.float32,
                                 device=device))
    return torch.stack(noise).to(inputs)
