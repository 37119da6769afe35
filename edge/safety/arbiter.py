"""The velocity arbiter: which command drives the chair this control period, under which limits.

Priority, highest first: any stop request (remote, hardware, safety) > teleoperation
(/cmd_vel_manual, fresh within its timeout) > autonomy (/cmd_vel_nav, fresh within its timeout)
> nothing, which is zero. A stale or non-finite command counts as none. The winner is then
clamped to the active safety limits and the chair's own drive limits. The answer is always a
command with a reason, never None: the MCU turns silence into a watchdog fault with no reason.

The attendant's physical joystick stays in the MCU, above all of this.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from chairlink.config import DriveLimits
from edge.types import DriveCommand

__all__ = [
    "Arbiter",
    "ArbiterConfig",
    "ArbitratedCommand",
    "CommandSource",
    "SafetyLimits",
    "StopRequest",
    "StopSource",
    "arbitrate",
]

_DEFAULT_LIMITS = DriveLimits()


class StopSource(StrEnum):
    """Who asked for a stop."""

    REMOTE = "remote"
    """The cloud or an operator's console (MQTT remote stop)."""
    HARDWARE = "hardware"
    """A hardware input on the chair: e-stop button, MCU fault, bumper."""
    SAFETY = "safety"
    """The safety layer: collision monitor, stale sensors."""


class CommandSource(StrEnum):
    """Where the arbitrated command came from."""

    STOP = "stop"
    TELEOP = "teleop"
    AUTONOMY = "autonomy"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class StopRequest:
    """A request to stop, with who asked and why."""

    source: StopSource
    reason: str


@dataclass(frozen=True, slots=True)
class SafetyLimits:
    """The speed limits the safety layer allows now; a limit of 0 stops that axis.

    Both limits at 0 make the answer a stop. Negative or non-finite limits count as 0.
    """

    max_linear_mps: float
    """Largest forward or backward speed allowed, m/s."""
    max_angular_radps: float
    """Largest turn rate allowed, rad/s."""
    reason: str = ""
    """Why these limits (e.g. "slowdown zone"); empty when they are the chair's own."""


@dataclass(frozen=True, slots=True)
class ArbiterConfig:
    """Freshness timeouts and the chair's own limits.

    The speeds default to chairlink.config.DriveLimits (1.1 m/s, 0.8 rad/s: docs/hazards.md
    H-09). The timeouts default to 0.25 s: five control periods at 20 Hz, so one lost message
    does not stop the chair, yet a command goes stale before the MCU's 0.2 s drive watchdog
    plus one period would brake it for want of any command.
    """

    teleop_timeout_ns: int = 250_000_000
    autonomy_timeout_ns: int = 250_000_000
    max_linear_mps: float = _DEFAULT_LIMITS.max_linear_mps
    max_angular_radps: float = _DEFAULT_LIMITS.max_angular_radps

    @staticmethod
    def from_limits(limits: DriveLimits) -> ArbiterConfig:
        """The chair's drive limits from its firmware configuration, default timeouts."""
        return ArbiterConfig(
            max_linear_mps=limits.max_linear_mps, max_angular_radps=limits.max_angular_radps
        )


@dataclass(frozen=True, slots=True)
class ArbitratedCommand:
    """The command chosen for this control period; never None.

    ``linear`` is m/s (forward positive), ``angular`` rad/s (counter-clockwise positive).
    ``stop`` is set for every stop, which the smoother then ramps down at the emergency
    deceleration rather than its comfort limits.
    """

    linear: float
    angular: float
    source: CommandSource
    reason: str
    stop: bool
    rejected: tuple[str, ...] = field(default=())
    """Inputs refused this period (stale, non-finite, stamped in the future), each named."""


def _limit(value: float) -> float:
    """A limit made safe: negative or non-finite counts as 0."""
    return value if math.isfinite(value) and value > 0.0 else 0.0


_KINDS = {"stamped": "future", "stale": "stale", "not finite": "not finite"}
"""The start of each refusal message after "<name> command ", and the kind it is counted as."""


def _check(name: str, command: DriveCommand | None, now_ns: int, timeout_ns: int) -> str | None:
    """Why ``command`` cannot drive now, or None when it is fresh and finite."""
    if command is None:
        return f"no {name} command"
    age_ns = now_ns - command.stamp_ns
    if age_ns < 0:
        # A command from the future is a clock fault; trusting it would keep it fresh forever.
        return f"{name} command stamped {-age_ns / 1e9:.3f} s in the future"
    if age_ns > timeout_ns:
        return f"{name} command stale ({age_ns / 1e9:.3f} s > {timeout_ns / 1e9:.3f} s)"
    if not (math.isfinite(command.linear_mps) and math.isfinite(command.angular_radps)):
        return f"{name} command not finite ({command.linear_mps}, {command.angular_radps})"
    return None


def _clamp(value: float, bound: float) -> float:
    """``value`` within [-bound, bound]; keeps its sign, so clamping never reverses."""
    return max(-bound, min(bound, value))


def arbitrate(
    now_ns: int,
    stops: Sequence[StopRequest],
    teleop: DriveCommand | None,
    autonomy: DriveCommand | None,
    *,
    limits: SafetyLimits,
    config: ArbiterConfig = ArbiterConfig(),
) -> ArbitratedCommand:
    """The command for the control period starting at ``now_ns``.

    Args:
        now_ns: The time now, ns, on the clock the commands are stamped with.
        stops: Every stop request active now; any one wins.
        teleop: The latest /cmd_vel_manual, or None.
        autonomy: The latest /cmd_vel_nav, or None.
        limits: The safety layer's active limits.
        config: Timeouts and the chair's own limits.
    """
    teleop_problem = _check("teleop", teleop, now_ns, config.teleop_timeout_ns)
    autonomy_problem = _check("autonomy", autonomy, now_ns, config.autonomy_timeout_ns)
    rejected = tuple(
        problem
        for problem, command in ((teleop_problem, teleop), (autonomy_problem, autonomy))
        if problem is not None and command is not None
    )
    if stops:
        reason = "; ".join(f"{stop.source.value} stop: {stop.reason}" for stop in stops)
        return ArbitratedCommand(0.0, 0.0, CommandSource.STOP, reason, True, rejected)
    max_linear = min(_limit(limits.max_linear_mps), _limit(config.max_linear_mps))
    max_angular = min(_limit(limits.max_angular_radps), _limit(config.max_angular_radps))
    if max_linear == 0.0 and max_angular == 0.0:
        why = limits.reason or "limits are zero"
        return ArbitratedCommand(
            0.0, 0.0, CommandSource.STOP, f"safety limit stop: {why}", True, rejected
        )
    if teleop_problem is None and teleop is not None:
        source, chosen, reason = CommandSource.TELEOP, teleop, "teleop"
    elif autonomy_problem is None and autonomy is not None:
        source, chosen = CommandSource.AUTONOMY, autonomy
        reason = "autonomy" if teleop is None else f"autonomy ({teleop_problem})"
    else:
        return ArbitratedCommand(
            0.0, 0.0, CommandSource.NONE, f"{teleop_problem}; {autonomy_problem}", False, rejected
        )
    linear = _clamp(chosen.linear_mps, max_linear)
    angular = _clamp(chosen.angular_radps, max_angular)
    if (linear, angular) != (chosen.linear_mps, chosen.angular_radps):
        why = f" ({limits.reason})" if limits.reason else ""
        reason += f"; limited to {max_linear:.2f} m/s, {max_angular:.2f} rad/s{why}"
    return ArbitratedCommand(linear, angular, source, reason, False, rejected)


class Arbiter:
    """``arbitrate`` with a count of the inputs it refused, for diagnostics."""

    def __init__(self, config: ArbiterConfig = ArbiterConfig()) -> None:
        """An arbiter with ``config``; nothing refused yet."""
        self.config = config
        self.rejected: Counter[str] = Counter()
        """Refused inputs by kind: "teleop stale", "autonomy not finite", "teleop future"..."""

    def step(
        self,
        now_ns: int,
        stops: Sequence[StopRequest],
        teleop: DriveCommand | None,
        autonomy: DriveCommand | None,
        *,
        limits: SafetyLimits,
    ) -> ArbitratedCommand:
        """The command for this period (see ``arbitrate``), counting what was refused."""
        command = arbitrate(now_ns, stops, teleop, autonomy, limits=limits, config=self.config)
        for problem in command.rejected:
            # Messages read "<name> command <kind> ..." (see _check).
            name, _, rest = problem.partition(" command ")
            kind = next(k for k in _KINDS if rest.startswith(k))
            self.rejected[f"{name} {_KINDS[kind]}"] += 1
        return command
