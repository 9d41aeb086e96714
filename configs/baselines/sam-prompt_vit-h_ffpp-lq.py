# Baseline "SAM+Prompt" (paper reference [30], Learnable Ophthalmology SAM): a learnable
# prompt layer before every frozen encoder block (1x1 conv to width/4, depthwise 3x3, 1x1
# back, each with LayerNorm and GELU, added to the tokens); mask decoder and
# classification branch fine-tuned; no Multiscale Adapters, no RGA.
_base_ = ['./sam_vit-h_ffpp-lq.py']
model = dict(backbone=dict(adapter=dict(_delete_=True, type='PromptLayer', reduction=4)))
