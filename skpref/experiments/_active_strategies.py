"""The query strategies the active protocols compare, by name."""

import difflib

from skpref.active import (
    BALDSampling,
    DisagreementQuadrantSampling,
    InconsistentPairSampling,
    KCenterDiversity,
    MarginSampling,
    RandomSampling,
)

__all__ = ["check_strategies", "default_strategies"]


def default_strategies(side):
    """Return the strategies an active protocol compares, for its side information.

    Parameters
    ----------
    side : {"delta", "prompt_type"}
        The protocol's side information: latent factor differences, or the prompt
        type of each pair.

    Returns
    -------
    strategies : dict of str to strategy
        ``random`` (the baseline), ``margin``, ``bald``, ``bald+diversity``, and
        the informed strategy of the side information, alone and ordered by BALD
        (``quadrant``, ``quadrant+bald``; or ``inconsistent``,
        ``inconsistent+bald``).

    Examples
    --------
    >>> from skpref.experiments import default_strategies
    >>> list(default_strategies("delta"))
    ['random', 'margin', 'bald', 'bald+diversity', 'quadrant', 'quadrant+bald']
    """
    informed, name = (
        (DisagreementQuadrantSampling, "quadrant")
        if side == "delta"
        else (InconsistentPairSampling, "inconsistent")
    )
    return {
        "random": RandomSampling(),
        "margin": MarginSampling(),
        "bald": BALDSampling(),
        "bald+diversity": KCenterDiversity(BALDSampling()),
        name: informed(),
        f"{name}+bald": informed(then=BALDSampling()),
    }


def check_strategies(strategies, protocol, *, owner):
    """Return the strategies of a run by name: all defaults, some, or a dict."""
    known = default_strategies(protocol.side)
    if strategies is None:
        return known
    if isinstance(strategies, str):
        strategies = [strategies]
    if isinstance(strategies, dict):
        chosen = dict(strategies)
    else:
        unknown = [s for s in strategies if s not in known]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{owner}: unknown strategy {unknown[0]!r} for the {protocol.name} "
                f"protocol; expected names among {list(known)}, or a dict of name "
                f"to strategy.{hint}"
            )
        chosen = {name: known[name] for name in strategies}
    if not chosen:
        raise ValueError(f"{owner}: strategies is empty; give at least one.")
    return chosen
