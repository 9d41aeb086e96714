"""RGA ablation on the CPU demo: several configs x several seeds, trained and tested, then
the mean and spread of the held-out metrics and of RGA's diagnostics as a table.

    python tools/analysis_tools/rga_ablation.py                      # the ablation (docs/rga.md)
    python tools/analysis_tools/rga_ablation.py --suite hard         # the harder case's
    python tools/analysis_tools/rga_ablation.py --seeds 0 1 --max-iters 300 --work-dir W
    python tools/analysis_tools/rga_ablation.py --table-only         # reprint from W

Each (config, seed) trains with ``tools/train.py`` (``randomness.seed`` set) into
``WORK_DIR/<config>/seed<k>`` and tests its best checkpoint with ``tools/test.py --out``;
a pair whose ``test/metrics.json`` exists is not run again, and an interrupted training
resumes from its last checkpoint (``--resume``), so an interrupted ablation goes on where
it stopped. The diagnostics (``rga_alpha_std``, ``rga_alpha_entropy``,
``rga_s_rel``, ``rga_rec_grad_share``) are the last values the training logged; the runs
switch ``RGADiagnosticsHook``'s ``grad_share`` on.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # for training_runs
from training_runs import ROOT, run_logged, test_command, train_command  # noqa: E402

DEMO = 'configs/dadf/dadf_sam-tiny_synthetic-demo.py'
ABLATIONS = 'configs/dadf/ablations/demo'
DEFAULT_CONFIGS = (
    f'{ABLATIONS}/dadf_sam-tiny_no-rga_synthetic-demo.py',
    DEMO,
    f'{ABLATIONS}/dadf-sf_sam-tiny_synthetic-demo.py',
    f'{ABLATIONS}/dadf-sf_sam-tiny_no-rec_synthetic-demo.py',
    f'{ABLATIONS}/dadf-sf_sam-tiny_rec-sigma_synthetic-demo.py',
    f'{ABLATIONS}/sam-prompt_sam-tiny_synthetic-demo.py',
)
HARD = 'configs/dadf/ablations/hard'
HARD_CONFIGS = (
    f'{HARD}/dadf_sam-tiny_no-rga_synthetic-hard.py',
    'configs/dadf/dadf_sam-tiny_synthetic-hard.py',
    f'{HARD}/dadf-sf_sam-tiny_synthetic-hard.py',
    f'{HARD}/dadf-sf_sam-tiny_no-rec_synthetic-hard.py',
    f'{HARD}/sam-prompt_sam-tiny_synthetic-hard.py',
)
SUITES = {'demo': DEFAULT_CONFIGS, 'hard': HARD_CONFIGS}
METRICS = ('AUC', 'ACC', 'EER', 'PBCA', 'IINC')
DIAGNOSTICS = ('rga_alpha_std', 'rga_alpha_entropy', 'rga_s_rel', 'rga_rec_grad_share')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--suite', choices=sorted(SUITES), default='demo',
                        help="the configs: the demo's forgeries or the harder case's")
    parser.add_argument('--configs', nargs='+', default=None,
                        help='these configs instead of the suite\'s')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--max-iters', type=int, default=None,
                        help='train_cfg.max_iters for every run (default: the config\'s)')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'rga_ablation'))
    parser.add_argument('--table-only', action='store_true',
                        help='print the table from finished runs, train nothing')
    parser.add_argument('--markdown', help='also write the table to this file')
    return parser.parse_args(argv)


def run_dir(work_dir: str, config: str, seed: int) -> str:
    return osp.join(work_dir, osp.splitext(osp.basename(config))[0], f'seed{seed}')


def run_one(config: str, seed: int, out: str, max_iters: Optional[int]) -> None:
    """Train and test one (config, seed): the best checkpoint, else the last one."""
    # RGADiagnosticsHook (the base runtime's first custom hook) also measures the share of
    # L_rec in the adapters' gradient, off in the shipped configs
    options = [f'randomness.seed={seed}', 'custom_hooks.0.grad_share=True']
    if max_iters:
        options.append(f'train_cfg.max_iters={max_iters}')
    os.makedirs(out, exist_ok=True)
    run_logged(train_command(config, out, options), osp.join(out, 'train.log'))
    # the work dir as the checkpoint: tools/test.py tests its best checkpoint, else the last
    run_logged(test_command(config, out, osp.join(out, 'test')), osp.join(out, 'test.log'))


def last_diagnostics(out: str) -> Dict[str, float]:
    """The last logged value of each diagnostic in the run's ``scalars.json``."""
    found: Dict[str, float] = {}
    for path in glob.glob(osp.join(out, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                found.update({k: record[k] for k in DIAGNOSTICS if k in record})
    return found


def mean_std(values: List[float]) -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return '-'
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f'{mean:.4g}'
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f'{mean:.4g} ± {std:.2g}'


def table(configs: Sequence[str], seeds: Sequence[int], work_dir: str) -> str:
    head = ['config', 'seeds', *METRICS, *DIAGNOSTICS]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for config in configs:
        metrics: Dict[str, List[float]] = {k: [] for k in METRICS + DIAGNOSTICS}
        done = 0
        for seed in seeds:
            out = run_dir(work_dir, config, seed)
            path = osp.join(out, 'test', 'metrics.json')
            if not osp.isfile(path):
                continue
            done += 1
            with open(path) as f:
                result = json.load(f)
            for k in METRICS:
                metrics[k].append(result.get(k))
            for k, v in last_diagnostics(out).items():
                metrics[k].append(v)
        row = [osp.basename(config), str(done)] + [mean_std(metrics[k]) for k in METRICS]
        row += [mean_std(metrics[k]) for k in DIAGNOSTICS]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    args.configs = args.configs or list(SUITES[args.suite])
    if not args.table_only:
        pairs = [(c, s) for c in args.configs for s in args.seeds]
        for i, (config, seed) in enumerate(pairs, 1):
            out = run_dir(args.work_dir, config, seed)
            if osp.isfile(osp.join(out, 'test', 'metrics.json')):
                print(f'[{i}/{len(pairs)}] {config} seed {seed}: done before', flush=True)
                continue
            print(f'[{i}/{len(pairs)}] {config} seed {seed}: training and testing in {out}',
                  flush=True)
            run_one(config, seed, out, args.max_iters)
    text = table(args.configs, args.seeds, args.work_dir)
    print(text)
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
