# RGA ablation on the harder synthetic case, baseline row: SAM+Prompt (learnable prompt
# layers instead of Multiscale Adapters, no RGA; the encoder trains from random weights).
_base_ = ['../../dadf_sam-tiny_synthetic-hard.py']
model = dict(backbone=dict(adapter=dict(_delete_=True, type='PromptLayer', reduction=4)),
             neck=None)
