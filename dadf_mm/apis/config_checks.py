"""Checks on ``--cfg-options`` so a mistyped key stops with a clear message."""
import difflib
from typing import Any, Dict, Mapping

from mmengine.config import Config


def check_cfg_options(cfg: Config, options: Mapping[str, Any]) -> None:
    """Raise ``KeyError`` for an option whose key does not exist in ``cfg``.

    ``a.b.c=v`` must name an existing ``c`` under an existing ``a.b`` (list indices
    included), so ``model.backbone.adpter.variant=B`` fails with the keys nearby instead
    of silently adding a key that nothing reads. ``--allow-new-keys`` skips the check.
    """
    for dotted in options:
        node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
        walked = []
        for part in dotted.split('.'):
            if isinstance(node, (list, tuple)) and part.lstrip('-').isdigit():
                if int(part) >= len(node):
                    raise KeyError(f'--cfg-options {dotted}: {".".join(walked)} has '
                                   f'{len(node)} items, no index {part}')
                node = node[int(part)]
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                where = '.'.join(walked) or 'the config'
                keys = list(node.keys()) if isinstance(node, Mapping) else []
                close = difflib.get_close_matches(part, keys, n=3)
                hint = f' Did you mean {", ".join(close)}?' if close else (
                    f' Keys there: {", ".join(sorted(map(str, keys))[:20])}.' if keys else '')
                raise KeyError(f'--cfg-options {dotted}: {where} has no key {part!r}.{hint} '
                               'Pass --allow-new-keys to add a key on purpose.')
            walked.append(part)


def apply_cfg_options(cfg: Config, options: Dict[str, Any], allow_new_keys: bool = False
                      ) -> None:
    """Check, then merge ``--cfg-options`` into ``cfg``."""
    if not options:
        return
    if not allow_new_keys:
        check_cfg_options(cfg, options)
    cfg.merge_from_dict(options)
