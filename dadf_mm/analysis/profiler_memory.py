"""The real peak of CPU allocations of a piece of code, from the PyTorch profiler.

With ``profile_memory=True`` the profiler records one ``[memory]`` event per allocation
(positive size) and per free (negative) made through c10's CPU allocator, by every
kernel, including the buffers that kernels allocate for themselves and that no dispatcher
hook sees (oneDNN scratchpads and weight reorders, for instance). In time order (ns
timestamps of the raw events; the summarised ``FunctionEvent`` list attributes
allocations to their ops and drops them), their running sum is the memory the code holds
on top of what existed before, and its maximum is the peak.
"""
from typing import Callable, List, Tuple

from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile


def memory_events(prof: profile) -> List[Tuple[int, int]]:
    """``(time_ns, signed bytes)`` of the CPU memory events of a finished profile.

    Args:
        prof (profile): A profile run with ``profile_memory=True``, exited.

    Returns:
        list[tuple[int, int]]: The events in time order: allocations positive, frees
        negative.
    """
    events = []
    for event in prof.profiler.kineto_results.events():
        if event.name() == '[memory]' and event.device_type() == DeviceType.CPU:
            events.append((event.start_ns(), event.nbytes()))
    events.sort(key=lambda e: e[0])
    return events


def running_peak(events: List[Tuple[int, int]]) -> Tuple[int, int]:
    """Peak and final value of the running sum of ``events``' sizes.

    Args:
        events (list[tuple[int, int]]): ``(time_ns, signed bytes)`` in time order, as
            :func:`memory_events` returns them.

    Returns:
        tuple[int, int]: The peak (at least 0) and the final running sum, in bytes.
    """
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return peak, live


def profiled_cpu_peak(fn: Callable[[], object]) -> int:
    """Peak bytes of CPU memory that ``fn()`` allocated on top of what existed before.

    Args:
        fn (Callable[[], object]): the code to measure; its result is dropped inside the
            profiled region.

    Returns:
        int: the peak of the running sum of allocations and frees.
    """
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    peak, _ = running_peak(memory_events(prof))
    return peak
