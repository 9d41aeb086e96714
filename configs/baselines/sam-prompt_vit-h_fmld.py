# Baseline "SAM+Prompt" on FMLD (see sam-prompt_vit-h_ffpp-hq.py).
_base_ = ['./sam_vit-h_fmld.py']
model = dict(backbone=dict(adapter=dict(_delete_=True, type='PromptLayer', reduction=4)))
