# Paper Table 5: Multiscale Adapter-C (Fig. 3 (c): without the 3x3 convolution branch).
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(backbone=dict(adapter=dict(variant='C')))
