# Paper Table 5: Multiscale Adapter-B (Fig. 3 (b): without dilated convolutions).
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(backbone=dict(adapter=dict(variant='B')))
