"""Safety on the chair: the velocity arbiter and the smoother (pure Python, time passed in)."""

from edge.safety.arbiter import (
    Arbiter,
    ArbiterConfig,
    ArbitratedCommand,
    CommandSource,
    SafetyLimits,
    StopRequest,
    StopSource,
    arbitrate,
)
from edge.safety.smoother import SmoothedCommand, Smoother, SmootherConfig

__all__ = [
    "Arbiter",
    "ArbiterConfig",
    "ArbitratedCommand",
    "CommandSource",
    "SafetyLimits",
    "SmoothedCommand",
    "Smoother",
    "SmootherConfig",
    "StopRequest",
    "StopSource",
    "arbitrate",
]
