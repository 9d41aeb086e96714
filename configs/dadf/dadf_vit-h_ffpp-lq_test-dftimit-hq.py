# Cross-dataset test (paper Table 3): a model trained with dadf_vit-h_ffpp-lq.py, tested on
# DFTIMIT-HQ (detection only: AUC / EER; localisation is not measured without masks).
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-lq_test-dftimit-hq.py CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-lq.py', '../_base_/datasets/cross_dataset_tests.py']
test_dataloader = dict(dataset={{_base_.dftimit_hq_test}})
test_evaluator = {{_base_.cross_test_evaluator}}
