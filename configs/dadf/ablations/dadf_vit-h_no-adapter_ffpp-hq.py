# Paper Table 4, "SAM + RGA": no Multiscale Adapters, RGA and both heads kept.
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(backbone=dict(adapter=None))
