"""``kill -9`` at random points of a demo training run, checkpoint saving included: every
kill leaves last_checkpoint naming a complete checkpoint, and ``--resume`` always ends at
the uninterrupted run's weights, bit for bit.

A few kills in CI; ``DADF_KILL_LOOP_KILLS=N`` and ``DADF_KILL_LOOP_SEED=S`` run more."""
import os
import random

import torch

from tests.helpers.tool_runs import loads, state_dict, train_short_run

KILLS = int(os.environ.get('DADF_KILL_LOOP_KILLS', '2'))
SEED = int(os.environ.get('DADF_KILL_LOOP_SEED', '0'))


def kill_plan(events, kills: int, seed: int):
    """``kills`` (kind, n) points of the run's events; the first one inside a checkpoint
    write, the second at a rename or a removal (checkpoint saving), the rest anywhere."""
    rng = random.Random(seed)
    counts = {kind: events.count(kind) for kind in set(events)}
    plan = []
    for i in range(kills):
        kinds = [['write'], ['rename', 'remove']][i] if i < 2 else sorted(counts)
        kind = rng.choice([k for k in kinds if counts.get(k)])
        plan.append((kind, rng.randint(1, counts[kind])))
    return plan


def check_after_kill(work_dir, had_best: bool) -> None:
    files = sorted(os.listdir(work_dir))
    last = work_dir / 'last_checkpoint'
    if last.exists():
        assert loads(open(last).read().strip()), files
    assert all(loads(work_dir / f) for f in files if f.endswith('.pth')), files
    if had_best:  # a complete best checkpoint survives every kill
        assert any(f.startswith('best_') and f.endswith('.pth') for f in files), files


def test_kills_at_random_points_then_resume_reach_the_uninterrupted_weights(
        short_demo_run, tmp_path):
    plan = kill_plan(short_demo_run.events, KILLS, SEED)
    assert plan[0][0] == 'write' and plan[1][0] in ('rename', 'remove')
    work = tmp_path / 'killed'
    finished = False
    for kind, n in plan:
        had_best = work.exists() and any(f.startswith('best_') for f in os.listdir(work))
        proc = train_short_run(short_demo_run.config, work, env=dict(DADF_KILL_AT=f'{kind}:{n}'))
        if proc.returncode == 0:  # this resumed run ended before its kill point
            finished = True
            break
        assert proc.returncode == -9, (kind, n, proc.stderr[-3000:])
        check_after_kill(work, had_best)
    if not finished:
        proc = train_short_run(short_demo_run.config, work)
        assert proc.returncode == 0, proc.stderr[-3000:]
    full = state_dict(short_demo_run.work_dir / 'iter_5.pth')
    resumed = state_dict(work / 'iter_5.pth')
    assert full.keys() == resumed.keys()
    for key in full:
        assert torch.equal(full[key], resumed[key]), (plan, key)
    assert any(f.startswith('best_PBCA_') for f in os.listdir(work))
    assert not [f for f in os.listdir(work) if '.tmp-' in f]
