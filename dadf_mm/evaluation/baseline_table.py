"""The localisation figures of a test as a table, each beside its baselines."""
import math
from typing import Mapping, Optional

from .forgery_metric import BASELINES, LOCALISATION_KEYS


def format_baseline_table(metrics: Mapping[str, float], *, num_images: int, num_forged: int,
                          prefix: str = '') -> Optional[str]:
    """The model's PBCA, IINC, pixel F1 and IoU beside each baseline ``ForgeryMetric``
    reported (``baseline/<b>/<metric>``), one row per metric.

    Args:
        metrics (Mapping[str, float]): What the evaluation returned, in %.
        num_images (int): The images localisation was measured on.
        num_forged (int): Those of them with forged pixels (F1 and IoU are over these).
        prefix (str): The metric's key prefix, e.g. ``'ffpp/'``. Defaults to ''.

    Returns:
        str | None: The table's lines; None when localisation was not measured.
    """
    if f'{prefix}PBCA' not in metrics:
        return None
    columns = [('model', '')] + [(title, f'baseline/{name}/')
                                 for name, title in BASELINES.items()
                                 if f'{prefix}baseline/{name}/PBCA' in metrics]
    widths = [max(len(title), 7) for title, _ in columns]
    lines = [f'localisation ({num_images} images, {num_forged} of them forged): the model '
             'against baselines',
             f'{"metric":<10}' + ''.join(f'  {t:>{w}}' for (t, _), w in zip(columns, widths))]
    for key in LOCALISATION_KEYS:
        cells = [metrics.get(f'{prefix}{part}{key}', math.nan) for _, part in columns]
        lines.append(f'{key:<10}' + ''.join(f'  {v:>{w}.2f}' for v, w in zip(cells, widths)))
    lines.append(f'PBCA, pixel_F1, pixel_IoU: greater is better; IINC: less is better; '
                 f'pixel_F1 and pixel_IoU are over the {num_forged} forged images')
    return '\n'.join(lines)
