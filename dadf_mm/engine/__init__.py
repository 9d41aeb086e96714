"""Runner-side support: safe loading of mmengine checkpoints under torch's weights_only."""
from .safe_checkpoint_loading import MMENGINE_SAFE_GLOBALS, allow_mmengine_checkpoints

__all__ = ['MMENGINE_SAFE_GLOBALS', 'allow_mmengine_checkpoints']
