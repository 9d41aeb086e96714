# As dadf_vit-h_fmld.py on SAM ViT-L.
_base_ = ['./dadf_vit-h_fmld.py']
model = dict(sam_checkpoint='checkpoints/sam_vit_l_0b3195.pth', backbone=dict(arch='vit_l'))
