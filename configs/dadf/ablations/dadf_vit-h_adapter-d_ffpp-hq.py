# Paper Table 5: Multiscale Adapter-D (Fig. 3 (d): without the 1x1 convolution branch).
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(backbone=dict(adapter=dict(variant='D')))
