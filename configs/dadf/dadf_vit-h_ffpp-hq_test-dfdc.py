# Cross-dataset test as DeepfakeBench runs it: a model trained on FF++ c23 (HQ) with
# dadf_vit-h_ffpp-hq.py, tested on the DFDC test set. Detection only (no masks): AUC, EER,
# ACC per frame and per video.
#   python tools/dataset_converters/dfdc.py /path/to/DFDC data/dfdc
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-hq_test-dfdc.py CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/cross_dataset_tests.py']
test_dataloader = dict(dataset={{_base_.dfdc_test}})
test_evaluator = {{_base_.cross_test_evaluator}}
