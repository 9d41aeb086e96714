"""Reading ``--cfg-options`` as mmengine's ``DictAction`` reads it, refusing at once what it
would misread (no ``=``, unbalanced brackets) and marking a value written as ``dict(...)``
(:class:`~dadf_mm.apis.config_checks.DictText`), refused with its keys one by one once the
config is known (:func:`~dadf_mm.apis.config_checks.apply_cfg_options`)."""
import argparse
import copy
import re
from typing import Any, List, Optional, Sequence, Tuple

from mmengine.config import DictAction

from dadf_mm.apis.config_checks import ConfigOptionError, DictText


def _dict_entries(body: str) -> List[str]:
    """``a=1,b=[2,3]`` (or ``'a': 1, 'b': 2``) split at its top-level commas into ``k=v``."""
    entries, depth, start = [], 0, 0
    for i, char in enumerate(body + ','):
        depth += (char in '([{') - (char in ')]}')
        if char == ',' and depth == 0:
            entry = body[start:i].strip()
            start = i + 1
            parts = re.split(r'\s*[=:]\s*', entry, maxsplit=1)
            if len(parts) == 2:
                entries.append(f"{parts[0].strip(chr(39) + chr(34))}={parts[1]}")
    return entries


def _dict_written(key: str, value: str) -> Optional[str]:
    """The fix for a value written as ``dict(...)`` / ``{...}``, else None."""
    text = value.strip().strip('\'"')
    found = re.fullmatch(r'dict\((.*)\)|\{(.*)\}', text, flags=re.S)
    if not found and not text.startswith(('dict(', '{')):
        return None
    body = (found.group(1) if found and found.group(1) is not None else
            found.group(2) if found else '')
    entries = _dict_entries(body) if body.strip() else []
    example = ' '.join(f'{key}.{entry}' for entry in entries[:4]) or f'{key}.SUBKEY=VALUE'
    return (f'--cfg-options {key}={value}: a dict cannot be given as one value (mmengine '
            f'would read it as the text {text!r}); set its keys one by one, e.g. '
            f'--cfg-options {example}')


def parse_cfg_option(text: str) -> Tuple[str, Any]:
    """One ``KEY=VALUE`` of ``--cfg-options``, read as mmengine's ``DictAction`` reads it
    (numbers, ``True``/``False``/``None``, ``[lists]``, ``(tuples)``, ``a,b`` lists).

    Args:
        text (str): The option as typed, e.g. ``'train_cfg.max_iters=20'``.

    Returns:
        tuple[str, Any]: The key and its value.

    Raises:
        ConfigOptionError: No ``=`` or no key, or unbalanced brackets. A value written as
            ``dict(...)`` or ``{...}`` (which ``DictAction`` keeps as a string, or cannot
            read) comes back as :class:`~dadf_mm.apis.config_checks.DictText`, refused by
            :func:`~dadf_mm.apis.config_checks.check_cfg_options`.
    """
    key, sep, value = text.partition('=')
    key = key.strip()
    if not sep or not key:
        raise ConfigOptionError(f'--cfg-options {text!r}: not KEY=VALUE; write e.g. '
                                'train_cfg.max_iters=1000 (no spaces around =)')
    fix = _dict_written(key, value)
    if fix:
        return key, DictText(value, fix)  # refused with the fix once the config is known
    try:
        return key, DictAction._parse_iterable(value)
    except (AssertionError, RecursionError) as err:
        raise ConfigOptionError(
            f'--cfg-options {key}={value}: cannot be read ({type(err).__name__}); close '
            'every ( and [, write a list as [a,b] or a tuple as (a,b), and quote the option '
            'in the shell') from None


class ConfigOptionsAction(argparse.Action):
    """``--cfg-options KEY=VALUE ...`` into a dict, as mmengine's ``DictAction`` does, with
    :func:`parse_cfg_option`'s refusals (raised out of ``parse_args``)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Optional[Sequence[str]], option_string: Optional[str] = None
                 ) -> None:
        options = copy.copy(getattr(namespace, self.dest, None) or {})
        for text in values or []:
            key, value = parse_cfg_option(text)
            options[key] = value
        setattr(namespace, self.dest, options)


