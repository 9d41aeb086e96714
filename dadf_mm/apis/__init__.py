"""High-level APIs: config checks and inference on images, folders and videos."""
from .config_checks import apply_cfg_options, check_cfg_options

__all__ = ['apply_cfg_options', 'check_cfg_options']
