"""Checks of config options (``--cfg-options``, an inferencer's ``cfg_options``) against a
config, so a mistyped key or a wrong value stops with a clear message.

A key is accepted when the config has it, or when it is a keyword argument of the class
that the enclosing ``type=...`` names in mmseg's registries (so every documented key of
``DADF``, ``SAMViT`` ... works even where the config file leaves it at its default).
Anything else is refused with the nearest names. A value whose type cannot be right (a
word where the config or the constructor has a number or a flag) is refused too, and so is
a value the command line wrote as ``dict(...)`` (:class:`DictText`). Reading the command
line itself is the tools' (``tools/cfg_options.py``).
"""
import difflib
import inspect
from typing import Any, Dict, Iterator, Mapping, Optional

from mmengine.config import Config

_MISSING = object()
# mmseg's registries searched for a ``type`` (mmseg's are children of mmengine's)
_REGISTRIES = ('MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'PARAM_SCHEDULERS',
               'OPTIM_WRAPPERS', 'OPTIMIZERS', 'LOOPS', 'METRICS', 'EVALUATOR',
               'DATA_SAMPLERS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS')


class ConfigOptionError(KeyError):
    """A ``--cfg-options`` entry with an unknown key or a value of the wrong type."""

    def __str__(self) -> str:
        return str(self.args[0])


class DictText(str):
    """A ``--cfg-options`` value written as ``dict(...)`` or ``{...}``: text to mmengine,
    refused where it is checked against the config, with ``fix`` (its keys one by one)
    as the message.

    Args:
        text (str): The value as typed.
        fix (str): The message it is refused with.
    """

    fix: str

    def __new__(cls, text: str, fix: str) -> 'DictText':
        value = super().__new__(cls, text)
        value.fix = fix
        return value

    def __reduce__(self):
        return DictText, (str(self), self.fix)


def registered_class(type_name: Any) -> Optional[type]:
    """The class a config's ``type`` names in mmseg's registries (``None``: unknown).

    Args:
        type_name (Any): A config's ``type``: a registered name, or a class itself.

    Returns:
        type | None: The class, or None when no registry knows the name.
    """
    if inspect.isclass(type_name):
        return type_name
    if not isinstance(type_name, str):
        return None
    import mmseg.registry as registries
    for name in _REGISTRIES:
        try:
            found = getattr(registries, name).get(type_name)
        except Exception:  # noqa: B902  a registry that cannot import its scope
            found = None
        if found is not None:
            return found
    return None


def constructor_keywords(cls: type) -> Dict[str, inspect.Parameter]:
    """Keyword arguments of ``cls(...)``: its ``__init__``'s and, where that passes
    ``**kwargs`` on, its base classes'.

    Args:
        cls (type): The class.

    Returns:
        dict[str, inspect.Parameter]: Name -> parameter (the nearest class's where several
        define it), without ``self``, ``*args`` and ``**kwargs``.
    """
    found: Dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            break
        for name, param in list(params.items())[1:]:  # without self
            if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                found.setdefault(name, param)
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            break
    return found


def _keys_here(node: Mapping) -> Iterator[str]:
    yield from map(str, node.keys())
    cls = registered_class(node.get('type'))
    if cls is not None:
        yield from constructor_keywords(cls)


def _expected_type(old: Any) -> Optional[str]:
    if isinstance(old, bool):
        return 'True or False'
    if isinstance(old, int):
        return 'an integer'
    if isinstance(old, float):
        return 'a number'
    if isinstance(old, Mapping):
        return 'a dict'
    if isinstance(old, (list, tuple)):
        return 'a list'
    return None


def _wrong_type(expected: str, new: Any) -> bool:
    if expected == 'a dict':  # a name (arch='vit_b') or None (drop a hook) may replace it
        return isinstance(new, (int, float))
    if expected == 'a list':
        return isinstance(new, str)
    containers = isinstance(new, (str, list, tuple, dict))
    if expected == 'True or False':
        return containers
    # True is an int to Python, not a count; 20.0 is a float to torch and mmengine
    return containers or isinstance(new, bool) or (expected == 'an integer'
                                                   and isinstance(new, float))


def _written(dotted: str, old: Any) -> str:
    """How to write a value like ``old`` on the command line."""
    if isinstance(old, Mapping):
        first = next(iter(old), 'SUBKEY')
        return (f'set its keys one by one, e.g. {dotted}.{first}=VALUE (or {dotted}=None '
                'to drop it)')
    if isinstance(old, (list, tuple)):
        return f'write e.g. {dotted}=[VALUE] (a list in brackets, no spaces)'
    return f'write e.g. {dotted}={old!r}'


def check_value(dotted: str, old: Any, new: Any) -> None:
    """Refuse ``new`` where its type cannot be the one ``old`` has: a word, a list or a
    flag where the config (or the constructor's default) has a number, a float where
    it has an integer, a number where it has a dict, a word where it has a list.

    Args:
        dotted (str): The option's key, e.g. ``'train_cfg.max_iters'``, for the message.
        old (Any): The value the config (or the constructor's default) has.
        new (Any): The value given on the command line.

    Raises:
        ConfigOptionError: ``new`` cannot be of the type ``old`` needs.
    """
    expected = _expected_type(old)
    if expected is not None and _wrong_type(expected, new):
        has = 'a dict' if expected == 'a dict' else repr(old)
        kind = 'str' if isinstance(new, str) else type(new).__name__
        raise ConfigOptionError(
            f'--cfg-options {dotted}={new!r}: expected {expected} (the config has '
            f'{has}), got {kind} {new!r}; {_written(dotted, old)}')


def _lookup(cfg: Any, dotted: str) -> Any:
    """The current value at ``dotted`` (``_MISSING`` for a constructor default of no
    known value); raises :class:`ConfigOptionError` for a key nothing reads."""
    node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    walked = []
    parts = dotted.split('.')
    for i, part in enumerate(parts):
        where = '.'.join(walked) or 'the config'
        if isinstance(node, (list, tuple)) and part.lstrip('-').isdigit():
            if int(part) >= len(node):
                raise ConfigOptionError(f'--cfg-options {dotted}: {where} has {len(node)} '
                                        f'items, no index {part}')
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Mapping) and part in set(_keys_here(node)):
            default = constructor_keywords(registered_class(node.get('type')))[part].default
            if isinstance(default, Mapping):
                node = default
            elif i + 1 < len(parts) or default is inspect.Parameter.empty:
                return _MISSING  # a structure the class builds itself: not checked further
            else:
                node = default
        else:
            keys = sorted(set(_keys_here(node))) if isinstance(node, Mapping) else []
            close = difflib.get_close_matches(part, keys, n=3)
            hint = f' Did you mean {", ".join(close)}?' if close else (
                f' Keys there: {", ".join(keys[:20])}.' if keys else '')
            raise ConfigOptionError(f'--cfg-options {dotted}: {where} has no key {part!r}.'
                                    f'{hint} Pass --allow-new-keys to add a key on purpose.')
        walked.append(part)
    return node


def check_cfg_options(cfg: Config, options: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigOptionError` (a ``KeyError``) for an option whose key nothing
    reads or whose value has the wrong type.

    ``a.b.c=v`` must name a ``c`` under ``a.b`` that the config has or that the class of
    ``a.b``'s ``type`` takes (list indices included), so ``model.backbone.adpter.variant=B``
    fails with the keys nearby instead of silently adding a key that nothing reads.

    Args:
        cfg (Config): the loaded config.
        options (Mapping[str, Any]): ``--cfg-options`` as parsed by mmengine's DictAction.
    """
    for dotted, value in options.items():
        _check_option(cfg, dotted, value, allow_new_keys=False)


def _check_option(cfg: Config, dotted: str, value: Any, allow_new_keys: bool) -> None:
    try:
        old = _lookup(cfg, dotted)
    except ConfigOptionError:
        if not allow_new_keys:
            raise
        old = _MISSING
    if old is not _MISSING:
        check_value(dotted, old, value)
    if isinstance(value, DictText):  # where a dict (or an unknown value) is: keys one by one
        raise ConfigOptionError(value.fix)


def apply_cfg_options(cfg: Config, options: Dict[str, Any], allow_new_keys: bool = False
                      ) -> None:
    """Check, then merge ``--cfg-options`` into ``cfg`` (``--allow-new-keys`` skips the
    key check, not the value check of existing keys).

    Args:
        cfg (Config): The loaded config, changed in place.
        options (dict[str, Any]): ``--cfg-options`` as parsed by mmengine's DictAction.
        allow_new_keys (bool): Accept keys nothing reads (``--allow-new-keys``).
            Defaults to False.

    Raises:
        ConfigOptionError: A key nothing reads (unless allowed) or a value of the wrong
            type.
    """
    if not options:
        return
    for dotted, value in options.items():
        _check_option(cfg, dotted, value, allow_new_keys)
    cfg.merge_from_dict(options)
