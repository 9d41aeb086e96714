# As dadf_vit-h_fmld.py on SAM ViT-B.
_base_ = ['./dadf_vit-h_fmld.py']
model = dict(sam_checkpoint='checkpoints/sam_vit_b_01ec64.pth', backbone=dict(arch='vit_b'))
