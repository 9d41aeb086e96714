"""Running a dataset's video jobs in parallel, writing its annotation lists and a report.

The dataset converters under ``tools/dataset_converters`` list their videos
(:class:`VideoJob`) and their splits and read their command line; the conversion itself is
here (:func:`convert_dataset`), its detector and output folders checked before any video
is read (:mod:`.conversion_checks`).
"""
import json
import multiprocessing
import os
import os.path as osp
import signal
import time
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence

import cv2
from tqdm import tqdm

from ..datasets.annotation_file import write_annotations
from .conversion_checks import check_detector_or_exit, check_output_folder
from .conversion_errors import ConversionStopped, ConverterError
from .face_detector import build_face_detector
from .video_conversion import (
    NOT_CONVERTED,
    ConversionOptions,
    VideoJob,
    VideoResult,
    completion,
    convert_video,
    read_video_meta,
)

_WORKER: dict = {}


def _init_worker(detector_spec: Optional[str], root: str, options: ConversionOptions,
                 single_thread: bool = True) -> None:
    if single_thread:  # a pool worker: parallel processes, not threads inside each
        cv2.setNumThreads(1)
        # Ctrl-C in a terminal reaches every process of the group: the main process alone
        # handles it and ends the workers (pool.terminate), so none prints a traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.update(root=root, options=options, detector=None, detector_error=None)
    try:
        _WORKER['detector'] = build_face_detector(detector_spec)
    except Exception as err:  # a pool worker that raises here would be restarted forever
        _WORKER['detector_error'] = f'face detector {detector_spec!r} failed to build: {err}'


def _run_one(job: VideoJob) -> VideoResult:
    if _WORKER['detector_error']:
        return VideoResult(job, 'failed', _WORKER['detector_error'])
    try:
        return convert_video(job, _WORKER['root'], _WORKER['options'], _WORKER['detector'])
    except Exception as err:  # one broken video must not end a run of thousands
        return VideoResult(job, 'failed', f'{type(err).__name__}: {err}')


def run_jobs(jobs: Sequence[VideoJob],
             root: str,
             options: ConversionOptions,
             *,
             workers: int = 1,
             detector: Optional[str] = None,
             desc: str = 'videos') -> List[VideoResult]:
    """Converts every job with a progress bar; one complete with ``options`` is skipped, one
    converted with other options is redone (``result.extra['redone']`` says why).

    Args:
        jobs (Sequence[VideoJob]): The videos.
        root (str): The output root.
        options (ConversionOptions): The run's options.
        workers (int): Parallel processes; 1 converts in this process. Defaults to 1.
        detector (str, optional): The face detector's spec; None for the Haar detector.
            Defaults to None.
        desc (str): The progress bar's label. Defaults to 'videos'.

    Returns:
        list[VideoResult]: One result per job (skipped ones first, then in completion
        order).

    Raises:
        ConversionStopped: SIGINT or SIGTERM (see :func:`run_converter`); the workers are
            ended first, and the videos converted before are complete.
    """
    jobs = list(jobs)
    todo = [job for job in jobs if completion(job, root, options) is not None]
    pending = set(todo)
    results = [VideoResult(job, 'skipped') for job in jobs if job not in pending]
    if not todo:
        return results
    bar = tqdm(total=len(todo), desc=desc, unit='video', dynamic_ncols=True)
    pool = None
    try:
        if workers == 1:
            _init_worker(detector, root, options, single_thread=False)
            stream: Iterable[VideoResult] = map(_run_one, todo)
        else:
            # not fork: a forked child of a process whose OpenCV (or torch) thread pool is
            # running can deadlock. A fork server starts clean, imports this module once
            # and forks the workers from there (which may then use CUDA).
            context = multiprocessing.get_context('forkserver')
            context.set_forkserver_preload([__name__])
            pool = context.Pool(workers, initializer=_init_worker,
                                initargs=(detector, root, options))
            stream = pool.imap_unordered(_run_one, todo)
        for result in stream:
            results.append(result)
            if result.status == 'failed':
                bar.write(f'failed: {result.job.method}/{result.job.video_id}: {result.reason}')
            bar.update()
    except BaseException as err:  # Ctrl-C included: stop the workers; their videos are redone
        if pool is not None:
            pool.terminate()
        if isinstance(err, ConversionStopped):
            err.converted = sum(r.status == 'done' for r in results)
            err.total = len(todo)
        raise
    finally:
        bar.close()
    if pool is not None:
        pool.close()
        pool.join()
    return results


def video_records(job: VideoJob, root: str) -> List[dict]:
    """One annotation record per written frame of a complete video.

    Args:
        job (VideoJob): The video.
        root (str): The output root (record paths are relative to it).

    Returns:
        list[dict]: Records with ``img_path``, ``mask_path``, ``label``, ``method``,
        ``video_id`` and ``frame``; with ``--faces all`` also ``person``. Every person of
        a video keeps the video's ``video_id`` and label: the labels are per video, and
        the video score pools its persons' frames.
    """
    meta = read_video_meta(job, root)
    rel = osp.relpath(job.output_dir(root), root)
    per_person = meta['options'].get('faces') == 'all'
    records = []
    for frame in meta['frames']:
        record = dict(img_path=osp.join(rel, 'images', frame['file']),
                      mask_path=(osp.join(rel, 'masks', frame['file']) if meta['has_masks']
                                 else None),
                      label=job.label, method=job.method, video_id=job.video_id,
                      frame=frame['frame'])
        if per_person:
            record['person'] = frame['person']
        records.append(record)
    return records


def write_split_lists(root: str, splits: Dict[str, Sequence[VideoJob]],
                      file_names: Dict[str, str],
                      options: Optional[ConversionOptions] = None) -> Dict[str, dict]:
    """Writes ``annotations/<file_names[split]>`` for every split from its videos complete
    with ``options``; videos converted with other options are left out and counted.

    Args:
        root (str): The output root.
        splits (dict[str, Sequence[VideoJob]]): Split name -> its videos.
        file_names (dict[str, str]): Split name -> annotation file name.
        options (ConversionOptions, optional): The run's options; None: any complete video
            counts. Defaults to None.

    Returns:
        dict[str, dict]: Per split: ``file``, ``frames``, ``videos``, ``videos_listed``,
        ``videos_other_options`` and ``methods`` (videos per method).
    """
    summary = {}
    for split, jobs in splits.items():
        why = {job: completion(job, root, options) for job in jobs}
        complete = [job for job in jobs if why[job] is None]
        records = [r for job in complete for r in video_records(job, root)]
        path = osp.join(root, 'annotations', file_names[split])
        write_annotations(path, records)
        summary[split] = dict(file=path, frames=len(records), videos=len(complete),
                              videos_listed=len(jobs),
                              videos_other_options=sum(w not in (None, NOT_CONVERTED)
                                                       for w in why.values()),
                              methods=dict(Counter(job.method for job in complete)))
    return summary


def finish_report(name: str, root: str, results: Sequence[VideoResult],
                  annotations: Dict[str, dict], started: float,
                  missing: Sequence[str] = ()) -> dict:
    """Prints the run's report and saves it as ``<root>/reports/<name>.json``.

    Args:
        name (str): The report's name.
        root (str): The output root.
        results (Sequence[VideoResult]): The run's results.
        annotations (dict[str, dict]): :func:`write_split_lists`'s summary.
        started (float): The run's start, as ``time.time()``.
        missing (Sequence[str]): Listed videos absent from the download. Defaults to ().

    Returns:
        dict: The report as saved.
    """
    counts = Counter(r.status for r in results)
    failures = [dict(source=r.job.source, method=r.job.method, video_id=r.job.video_id,
                     reason=r.reason) for r in results if r.status == 'failed']
    redone = [dict(method=r.job.method, video_id=r.job.video_id, reason=r.extra['redone'])
              for r in results if 'redone' in r.extra]
    without_face = [dict(method=r.job.method, video_id=r.job.video_id,
                         frames=r.extra['frames_without_face'])
                    for r in results if r.extra.get('frames_without_face')]
    report = dict(name=name, output=osp.abspath(root), videos=len(results),
                  done=counts['done'], skipped=counts['skipped'], failed=counts['failed'],
                  redone=len(redone), redone_videos=redone,
                  not_in_download=len(missing),
                  frames_written=sum(r.frames for r in results),
                  frames_with_held_box=sum(r.extra.get('held_frames', 0) for r in results),
                  videos_with_frames_without_face=without_face,
                  failures=failures, missing_sources=list(missing), annotations=annotations,
                  seconds=round(time.time() - started, 1))
    path = osp.join(root, 'reports', f'{name}.json')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(report, f, indent=1)
    print(f'{name}: {report["videos"]} videos: {report["done"]} done, {report["skipped"]} '
          f'skipped (already complete with these options), {report["failed"]} failed')
    for reason, n in Counter(r['reason'] for r in redone).most_common():
        print(f'  redone, {reason}: {n}')
    reasons = Counter(f['reason'].split(':')[0] for f in failures)
    for reason, n in reasons.most_common():
        print(f'  failed, {reason}: {n}')
    if without_face:
        first = without_face[0]
        print(f'  {report["frames_with_held_box"]} frames of {len(without_face)} videos had no '
              'face (the box was held), e.g. '
              f'{first["method"]}/{first["video_id"]} frames {first["frames"]}')
    if missing:
        print(f'  {len(missing)} listed videos are not in the download, e.g. {missing[0]}')
    for split, info in annotations.items():
        absent = info['videos_listed'] - info['videos'] - info['videos_other_options']
        other = info['videos_other_options']
        print(f'  {split}: {info["frames"]} frames of {info["videos"]} videos -> {info["file"]}'
              + (f' ({absent} listed videos without crops)' if absent else '')
              + (f' ({other} videos converted with other options left out: convert them '
                 'again with these options)' if other else ''))
    print(f'report: {path}')
    return report


def convert_dataset(name: str, root: str, splits: Dict[str, Sequence[VideoJob]],
                    file_names: Dict[str, str], options: ConversionOptions, *,
                    workers: int = 1, run: Optional[Sequence[VideoJob]] = None) -> dict:
    """A converter's whole run: convert, write the split lists, report.

    Args:
        name (str): the report's name (``reports/<name>.json``).
        root (str): the output root.
        splits (dict[str, Sequence[VideoJob]]): split name -> every video the split lists
            (present in the download or not).
        file_names (dict[str, str]): split name -> annotation file name under
            ``<root>/annotations``.
        options (ConversionOptions): the crops' options (``detector`` included).
        workers (int): parallel processes. Defaults to 1.
        run (Sequence[VideoJob], optional): the videos to convert now (None: every video
            of every split, once). Defaults to None.

    Returns:
        dict: The report (see :func:`finish_report`).
    """
    started = time.time()
    check_detector_or_exit(options.detector)
    if run is None:
        run = list({job: None for jobs in splits.values() for job in jobs})
    present = [job for job in run if osp.exists(job.source)]
    missing = [job.source for job in run if not osp.exists(job.source)]
    if run and not present:
        raise ConverterError(f'{name}: none of the {len(run)} videos to convert exists, e.g. '
                             f'{run[0].source}; check the input folder and --compression')
    check_output_folder(root, [osp.dirname(job.output_dir(root)) for job in present]
                        + [osp.join(root, 'annotations'), osp.join(root, 'reports')])
    results = run_jobs(present, root, options, workers=workers, detector=options.detector,
                       desc=name)
    annotations = write_split_lists(root, splits, file_names, options)
    return finish_report(name, root, results, annotations, started, missing)


