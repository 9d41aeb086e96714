# Cross-dataset test as DeepfakeBench runs it: a model trained on FF++ c23 (HQ) with
# dadf_vit-h_ffpp-hq.py, tested on Celeb-DF v1 (List_of_testing_videos.txt). Detection
# only (no masks): AUC, EER, ACC per frame and per video.
#   python tools/dataset_converters/celebdf.py /path/to/Celeb-DF data/celebdf --version v1
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-hq_test-celebdf-v1.py CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/cross_dataset_tests.py']
test_dataloader = dict(dataset={{_base_.celebdf_v1_test}})
test_evaluator = {{_base_.cross_test_evaluator}}
