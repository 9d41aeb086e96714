"""A context manager that can be entered again after it exits.

``torch.utils.checkpoint`` asks its ``context_fn`` once, in the forward pass, for the
context of the recomputation, and enters that one object every time the block is
recomputed: once per backward pass through it, so more than once when a graph is kept for
several (``retain_graph``, as RGA's diagnostics do). A ``contextlib.contextmanager`` object
can be entered only once; :class:`Reentrant` makes its inner contexts anew on each entry.
"""
from contextlib import ExitStack
from typing import Any, Callable, ContextManager, Optional


class Reentrant:
    """Enters the contexts the factories return, freshly made on every entry.

    Args:
        *factories (callable): each returns a context manager (or None for none).
    """

    def __init__(self, *factories: Callable[[], Optional[ContextManager]]) -> None:
        self.factories = factories
        self._stack: Optional[ExitStack] = None

    def __enter__(self) -> 'Reentrant':
        stack = ExitStack()
        for factory in self.factories:
            context = factory()
            if context is not None:
                stack.enter_context(context)
        self._stack = stack
        return self

    def __exit__(self, *exc: Any) -> Optional[bool]:
        stack, self._stack = self._stack, None
        return stack.__exit__(*exc)
