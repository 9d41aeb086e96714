"""SAM's window helpers: a token grid to windows of ws x ws tokens and back."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def window_partition(x: torch.Tensor, window_size: int, fill: Optional[torch.Tensor] = None
                     ) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Split (B, H, W, C) into (B * nW, ws, ws, C) windows, padding H and W up to ws.

    Args:
        x (Tensor): The token grid (B, H, W, C).
        window_size (int): The window size ws.
        fill (Tensor, optional): The padding tokens' value (C,); None for zeros.
            Defaults to None.

    Returns:
        tuple[Tensor, tuple[int, int]]: The windows (B * nW, ws, ws, C) and the padded
        size (Hp, Wp).
    """
    b, h, w, c = x.shape
    pad_h = (window_size - h % window_size) % window_size
    pad_w = (window_size - w % window_size) % window_size
    if (pad_h or pad_w) and fill is None:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    elif pad_h or pad_w:
        padded = fill.to(x.dtype).expand(b, h + pad_h, w + pad_w, c).clone()
        padded[:, :h, :w] = x
        x = padded
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window_size, window_size, wp // window_size, window_size, c)
    windows = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size, window_size, c)
    return windows, (hp, wp)


def window_unpartition(windows: torch.Tensor, window_size: int, pad_hw: Tuple[int, int],
                       hw: Tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`window_partition`, dropping the padding.

    Args:
        windows (Tensor): The windows (B * nW, ws, ws, C).
        window_size (int): The window size ws.
        pad_hw (tuple[int, int]): The padded size (Hp, Wp).
        hw (tuple[int, int]): The size (H, W) before padding.

    Returns:
        Tensor: The token grid (B, H, W, C).
    """
    hp, wp = pad_hw
    h, w = hw
    b = windows.shape[0] // (hp * wp // window_size // window_size)
    x = windows.view(b, hp // window_size, wp // window_size, window_size, window_size, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    if hp > h or wp > w:
        x = x[:, :h, :w, :].contiguous()
    return x
