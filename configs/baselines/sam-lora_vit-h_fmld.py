# Baseline "SAM+LoRA" on FMLD.
_base_ = ['./sam_vit-h_fmld.py']
model = dict(backbone=dict(lora=dict(rank=4, alpha=4)))
