"""Console log lines that show small losses instead of rounding them to zero."""
import re
from typing import Tuple

from mmengine.runner import LogProcessor
from mmseg.registry import LOG_PROCESSORS

#: seconds, written as mmengine writes them
KEEP_FIXED = ('time', 'data_time')


def significant(value: float, digits: int) -> str:
    """A logged value, legible at any magnitude.

    Args:
        value (float): the value.
        digits (int): mmengine's ``num_digits``.

    Returns:
        str: as mmengine writes it (``digits`` decimals) for 0 and for magnitudes from
        ``10 ** -(digits - 2)`` up; smaller ones (``1.234e-05``, which fixed point writes as
        ``0.0000``) in scientific notation with ``digits`` significant digits.
    """
    if value == 0 or abs(value) >= 10 ** -(digits - 2):
        return f'{value:.{digits}f}'
    return f'{value:.{digits - 1}e}'


@LOG_PROCESSORS.register_module()
class SignificantLogProcessor(LogProcessor):
    """mmengine's :class:`~mmengine.runner.LogProcessor` whose console lines write small
    values with ``num_digits`` significant digits: RGA's ``loss_rec`` (about 1e-5, 0.1
    times the MSE of two feature maps that differ by the effect of a 1e-3 noise) reads
    ``loss_rec: 1.234e-05`` instead of ``loss_rec: 0.0000``. Values of 0.01 and above are
    written as mmengine writes them, and so are ``time``, ``data_time`` and learning rates;
    the values sent to the backends (TensorBoard, ``scalars.json``) are untouched.

    Args:
        **kwargs: as :class:`~mmengine.runner.LogProcessor` (``by_epoch``, ``num_digits``,
            ``window_size``, ``custom_cfg`` ...).
    """

    def _rewrite(self, tag: dict, log_str: str) -> str:
        for key, value in tag.items():
            name = key.split('/')[-1]
            if not isinstance(value, float) or name in KEEP_FIXED or name.endswith('lr'):
                continue
            fixed = f'{name}: {value:.{self.num_digits}f}'
            better = f'{name}: {significant(value, self.num_digits)}'
            if fixed != better:
                log_str = re.sub(rf'(?<![\w/]){re.escape(fixed)}(?!\d)', better, log_str)
        return log_str

    def get_log_after_iter(self, runner, batch_idx: int, mode: str) -> Tuple[dict, str]:
        """mmengine's line after an iteration, small values rewritten.

        Args:
            runner (Runner): the runner.
            batch_idx (int): the batch's index in its loop.
            mode (str): ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            tuple[dict, str]: the logged values (unchanged) and the console line.
        """
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        return tag, self._rewrite(tag, log_str)

    def get_log_after_epoch(self, runner, batch_idx: int, mode: str,
                            with_non_scalar: bool = False) -> Tuple[dict, str]:
        """mmengine's line after a validation or test run, small values rewritten.

        Args:
            runner (Runner): the runner.
            batch_idx (int): the last batch's index.
            mode (str): ``'val'`` or ``'test'``.
            with_non_scalar (bool): also return non-scalar values. Defaults to False.

        Returns:
            tuple[dict, str]: the logged values (unchanged) and the console line.
        """
        tag, log_str = super().get_log_after_epoch(runner, batch_idx, mode, with_non_scalar)
        return tag, self._rewrite(tag, log_str)
