# Ablation: the scale-free RGA with its own enhancer for S (phi_S), not shared with F.
_base_ = ['../dadf-sf_vit-h_ffpp-hq.py']
model = dict(neck=dict(enhancer='separate'))
