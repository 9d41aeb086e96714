"""The inference API: a trained model on images, folders and videos
(:class:`ForgeryInferencer`), its predictions, the files they are written to
(:class:`PredictionFiles`), and config options checked against a config."""
from .config_checks import apply_cfg_options, check_cfg_options
from .inference import ForgeryInferencer, read_probability_map
from .inferencer_results import ForgeryPrediction, FrameScore, VideoPrediction
from .prediction_files import PredictionFiles

__all__ = ['apply_cfg_options', 'check_cfg_options', 'ForgeryInferencer',
           'ForgeryPrediction', 'FrameScore', 'VideoPrediction', 'PredictionFiles',
           'read_probability_map']
