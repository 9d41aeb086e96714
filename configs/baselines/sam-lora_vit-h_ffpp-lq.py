# Baseline "SAM+LoRA" on FFPP-LQ.
_base_ = ['./sam_vit-h_ffpp-lq.py']
model = dict(backbone=dict(lora=dict(rank=4, alpha=4)))
