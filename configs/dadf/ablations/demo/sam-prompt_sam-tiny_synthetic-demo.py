# RGA ablation on the CPU demo, baseline row: SAM+Prompt (learnable prompt layers instead of
# Multiscale Adapters, no RGA). The demo's encoder trains from random weights, so this
# compares the adaptation modules, not their use on a pretrained SAM.
_base_ = ['../../dadf_sam-tiny_synthetic-demo.py']
model = dict(backbone=dict(adapter=dict(_delete_=True, type='PromptLayer', reduction=4)),
             neck=None)
