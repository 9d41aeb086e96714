"""Recall and box IoU of the face detectors on the proxy set, and time per 854 x 480 frame.

    python tools/analysis_tools/face_detector_benchmark.py                  # centerface, haar
    python tools/analysis_tools/face_detector_benchmark.py --detectors haar mypkg.faces:make

The proxy set (dadf_mm/preprocessing/face_proxy_set.py) is built from the face photos of
installed packages: widths 24-512 px, turned 0-45 degrees, blurred, JPEG 10-30, darkened
to 0.3x, partly covered, three faces in a frame. A face counts as found at IoU >= 0.4;
IoU is the mean over the faces found; extra is unmatched detections per face. Times run
one CPU thread (set OMP_NUM_THREADS to change it).
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Sequence

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/, for tool_setup
from dadf_mm.preprocessing.face_detector import build_face_detector  # noqa: E402
from dadf_mm.preprocessing.face_proxy_set import (  # noqa: E402
    DEGRADATIONS,
    FaceResult,
    build_proxy_set,
    measure_detector,
    summarize,
)

from tool_setup import ToolError, run_tool  # noqa: E402


def table_rows(results: Sequence[FaceResult]) -> Dict[str, List[FaceResult]]:
    """The table's rows: every face, the band the tests check, each width and angle of the
    clean faces, each degradation.

    Args:
        results (Sequence[FaceResult]): One detector's results.

    Returns:
        dict[str, list[FaceResult]]: Row name to its faces.
    """
    clean = [r for r in results if r.condition == 'clean']
    rows = {'all faces': list(results),
            'width >= 48, turned <= 30': [r for r in results
                                          if r.face_width >= 48 and r.angle <= 30]}
    for width in sorted({r.face_width for r in clean}):
        rows[f'clean, width {width}'] = [r for r in clean if r.face_width == width]
    for angle in sorted({r.angle for r in clean}):
        rows[f'clean, turned {angle:g}'] = [r for r in clean if r.angle == angle]
    for name in [*DEGRADATIONS, 'three faces']:
        rows[name] = [r for r in results if r.condition == name]
    return rows


def seconds_per_frame(detector, frame: np.ndarray, repeats: int) -> float:
    """The median time of ``detector`` on ``frame`` (after one warm-up call)."""
    detector(frame)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detector(frame)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--detectors', nargs='+', default=['centerface', 'haar'],
                        help="'centerface', 'haar' or 'package.module:factory' (default: both "
                        'built-in)')
    parser.add_argument('--repeats', type=int, default=10,
                        help='timed calls per detector (default 10)')
    args = parser.parse_args(argv)
    if args.repeats < 1:
        raise ToolError(f'--repeats must be at least 1, got {args.repeats}')
    cv2.setNumThreads(int(os.environ.get('OMP_NUM_THREADS', 1)))
    frames = build_proxy_set()
    wide = next(f.image for f in frames if f.image.shape[:2] == (480, 854))
    detectors = {}
    for spec in args.detectors:
        try:
            detectors[spec] = build_face_detector(spec)
        except (ValueError, RuntimeError, FileNotFoundError) as err:
            raise ToolError(f'--detectors {spec}: {err}') from err
    tables = {spec: table_rows(measure_detector(d, frames)) for spec, d in detectors.items()}
    names = list(detectors)
    print('| faces | n | ' + ' | '.join(f'{n} recall | {n} IoU' for n in names) + ' |')
    print('|---|---|' + '---|---|' * len(names))
    for row in tables[names[0]]:
        cells = []
        for spec in names:
            s = summarize(tables[spec][row])
            cells += [f'{s["recall"]:.2f}', '-' if np.isnan(s['iou']) else f'{s["iou"]:.2f}']
        print(f'| {row} | {len(tables[names[0]][row])} | ' + ' | '.join(cells) + ' |')
    extra = ', '.join(f'{spec} {summarize(tables[spec]["all faces"])["extra"]:.2f}'
                      for spec in names)
    print(f'\nunmatched detections per face: {extra}')
    for spec, detector in detectors.items():
        ms = 1000 * seconds_per_frame(detector, wide, args.repeats)
        print(f'{spec}: {ms:.0f} ms per 854x480 frame ({cv2.getNumThreads()} OpenCV thread(s))')


if __name__ == '__main__':
    run_tool(main, 'face_detector_benchmark.py')
