# DADF, SAM ViT-H, 1024 px, FF++ HQ (c23), all four methods: paper Tables 1, 4-6.
_base_ = [
    '../_base_/models/dadf_sam-vit-h.py', '../_base_/datasets/ffpp.py',
    '../_base_/schedules/schedule_30e.py', '../_base_/dadf_runtime.py'
]
