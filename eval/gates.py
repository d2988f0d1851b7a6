"""``--fail-under`` gates: ``METRIC=VALUE`` or ``SETTING:METRIC=VALUE``, parsed and checked."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eval.errors import EvalError
from eval.records import LOWER_IS_BETTER, EvalResult


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    """``--fail-under METRIC=VALUE``: the run fails when the served metric's mean is below VALUE."""

    metric: str
    minimum: float
    setting: str | None = None
    """The setting the gate applies to; None in single-index mode."""


def parse_gates(specs: Sequence[str], metrics: Sequence[str]) -> list[Gate]:
    """Parse gate specs against the mode's summary metrics (names match case-insensitively).

    Raises ``EvalError`` listing the valid names for an unknown or lower-is-better metric, and for
    a value that is not a finite number.
    """
    gateable = [name for name in metrics if name not in LOWER_IS_BETTER]
    by_folded = {name.casefold(): name for name in gateable}
    gates = []
    for spec in specs:
        name, separator, value = spec.partition("=")
        metric = by_folded.get(name.strip().casefold())
        if not separator or metric is None:
            reason = ("is lower-is-better, so a minimum makes no sense"
                      if name.strip() in LOWER_IS_BETTER else "is not a metric of this run")
            raise EvalError(f"--fail-under {spec!r}: {name.strip()!r} {reason}; use METRIC=VALUE "
                            f"with METRIC one of {', '.join(gateable)}")
        try:
            minimum = float(value)
        except ValueError:
            minimum = math.nan
        if not math.isfinite(minimum):
            raise EvalError(f"--fail-under {spec!r}: {value!r} is not a number")
        gates.append(Gate(metric=metric, minimum=minimum))
    return gates


def parse_setting_gates(specs: Sequence[str], metrics: Sequence[str],
                        settings: Sequence[str], skipped: Sequence[str] = ()) -> list[Gate]:
    """Gates of a settings run: ``SETTING:METRIC=VALUE``, or ``METRIC=VALUE`` for the first one.

    A gate may name a ``skipped`` setting (its input is absent here; the run says so). Raises
    ``EvalError`` for any other setting that is not part of the run and for what ``parse_gates``
    rejects.
    """
    gates = []
    for spec in specs:
        qualifier, colon, rest = spec.partition(":")
        if colon and "=" not in qualifier:
            setting = qualifier.strip()
            if setting not in settings and setting not in skipped:
                raise EvalError(f"--fail-under {spec!r}: setting {setting!r} is not run; use one "
                                f"of {', '.join(settings)} (or --setting to run it)")
        else:
            setting, rest = settings[0], spec
        (gate,) = parse_gates([rest], metrics)
        gates.append(Gate(metric=gate.metric, minimum=gate.minimum, setting=setting))
    return gates


def failed_gates(gates: Sequence[Gate], result: EvalResult) -> list[str]:
    """One message per gate the served configuration's metric falls below (absent counts as 0)."""
    failures = []
    for gate in gates:
        aggregate = result.default.aggregates.get(gate.metric)
        value = aggregate.mean if aggregate is not None else 0.0
        if value < gate.minimum:
            where = f"{gate.setting}: " if gate.setting is not None else ""
            failures.append(f"{where}{gate.metric} = {value:.4f} is below the gate "
                            f"{gate.minimum:g}")
    return failures


def failed_setting_gates(gates: Sequence[Gate],
                         results: Mapping[str, EvalResult]) -> list[str]:
    """``failed_gates`` of each setting's result, for the gates naming that setting."""
    return [failure for name, result in results.items()
            for failure in failed_gates([gate for gate in gates if gate.setting == name], result)]
