# Cross-dataset test sets prepared by DeepfakeBench (github SCLBD/DeepfakeBench), read as
# they are by DeepfakeBenchDataset: its rearranged JSON files and its frame folders. Link
# (or copy) DeepfakeBench's preprocessing/dataset_json to data/deepfakebench/dataset_json
# and its rgb_dir (datasets/rgb) to data/deepfakebench/rgb; frame paths written relative to
# rgb_dir are read under data_prefix['img_path'], absolute ones as they are. Same layout as
# cross_dataset_tests.py (`<name>_test` dicts, `cross_datasets`), so that
#   python tools/analysis_tools/cross_dataset.py CONFIG CHECKPOINT \
#       --presets configs/_base_/datasets/deepfakebench_tests.py
# runs them all. DeepfakeBench prepares no WildDeepfake and no DF-TIMIT.
deepfakebench_test_pipeline = [
    dict(type='LoadForgeryImage'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=False),
    dict(type='LoadForgeryAnnotations'),
    dict(type='PackForgeryInputs'),
]
deepfakebench_root = dict(data_root='data/deepfakebench',
                          data_prefix=dict(img_path='rgb', seg_map_path='rgb'),
                          pipeline=deepfakebench_test_pipeline, split='test')
dfd_test = dict(_delete_=True, type='DeepfakeBenchDataset',
                json_file='dataset_json/DeepFakeDetection.json', compression='c23',
                **deepfakebench_root)
celebdf_v1_test = dict(_delete_=True, type='DeepfakeBenchDataset',
                       json_file='dataset_json/Celeb-DF-v1.json', **deepfakebench_root)
celebdf_v2_test = dict(_delete_=True, type='DeepfakeBenchDataset',
                       json_file='dataset_json/Celeb-DF-v2.json', **deepfakebench_root)
dfdc_test = dict(_delete_=True, type='DeepfakeBenchDataset', json_file='dataset_json/DFDC.json',
                 **deepfakebench_root)
dfdcp_test = dict(_delete_=True, type='DeepfakeBenchDataset', json_file='dataset_json/DFDCP.json',
                  **deepfakebench_root)
deeperforensics_test = dict(_delete_=True, type='DeepfakeBenchDataset',
                            json_file='dataset_json/DeeperForensics-1.0.json',
                            **deepfakebench_root)
faceshifter_test = dict(_delete_=True, type='DeepfakeBenchDataset',
                        json_file='dataset_json/FaceShifter.json', compression='c23',
                        **deepfakebench_root)
uadfv_test = dict(_delete_=True, type='DeepfakeBenchDataset', json_file='dataset_json/UADFV.json',
                  **deepfakebench_root)
cross_datasets = ['dfd', 'celebdf_v1', 'celebdf_v2', 'dfdc', 'dfdcp', 'deeperforensics',
                  'faceshifter', 'uadfv']
# localisation where the JSON lists masks (FF++ relatives), detection everywhere
deepfakebench_test_evaluator = dict(_delete_=True, type='ForgeryMetric')
