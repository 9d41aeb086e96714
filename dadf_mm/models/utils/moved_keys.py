"""One error for a constructor key that has moved or never existed."""
from typing import Mapping


def refuse_old_keys(owner: str, given: Mapping, moved: Mapping[str, str]) -> None:
    """Raise for the first of ``given`` (keys a constructor does not take), naming the key
    and, where it has moved, its new place.

    Args:
        owner (str): the config path of the constructor (``'model'``, ``'model.neck'``).
        given (Mapping): the keys the constructor was given and does not take.
        moved (Mapping[str, str]): old key -> what to write instead
            (``"use model.noise=dict(std=...)"``).

    Raises:
        ValueError: a moved key (the first of ``given``).
        TypeError: a key that was never there.
    """
    for key in given:
        if key in moved:
            raise ValueError(f'{owner}.{key} is no longer a key of {owner}: {moved[key]}')
        raise TypeError(f'{owner} has no key {key!r}')
