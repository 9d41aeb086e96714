# Baseline "SAM+LoRA": rank-4 updates of every block's frozen qkv projection; mask decoder
# and classification branch fine-tuned; no adapters, no RGA.
_base_ = ['./sam_vit-h_ffpp-hq.py']
model = dict(backbone=dict(lora=dict(rank=4, alpha=4)))
