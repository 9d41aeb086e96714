"""Deprecation warnings of dependencies that a user of this package can do nothing about,
filtered when the package is imported (:func:`filter_dependency_warnings`):

- mmengine's ``mmengine/utils/package_utils.py`` imports setuptools' ``pkg_resources``
  (deprecated) to see which OpenMMLab packages are installed;
- mmseg's decode heads build their losses with its own ``build_loss``, which warns that it
  will be deprecated.

Each filter matches one message from one module, so every other warning still shows.
"""
import warnings

#: (message regex, category, module regex) of each filtered warning
DEPENDENCY_WARNINGS = (
    (r'pkg_resources is deprecated as an API', UserWarning, r'(mmengine|importlib)(\.|$)'),
    (r'``build_loss`` would be deprecated soon', UserWarning, r'mmseg\.models\.builder$'),
)


def filter_dependency_warnings() -> None:
    """Ignore the warnings of :data:`DEPENDENCY_WARNINGS` (idempotent)."""
    for message, category, module in DEPENDENCY_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category, module=module)
