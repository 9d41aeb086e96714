"""DADF for MMSegmentation 1.x.

Importing this package registers every DADF module in mmseg's registries, so a config
with ``custom_imports = dict(imports=['dadf_mm'], allow_failed_imports=False)`` makes
stock mmseg tools find them.
"""
from .dependency_warnings import filter_dependency_warnings

filter_dependency_warnings()  # before mmengine and mmseg can emit them

from .engine import allow_mmengine_checkpoints  # noqa: E402

allow_mmengine_checkpoints()

from . import apis, datasets, evaluation, models, visualization  # noqa: F401,E402

__version__ = '0.1.0'
