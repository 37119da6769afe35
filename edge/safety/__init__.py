"""Safety on the chair: sensor watchdog, safety state, arbiter, smoother (pure, given time)."""

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
from edge.safety.sensor_watchdog import (
    CameraStatus,
    LidarStatus,
    SensorVerdict,
    SensorWatchdog,
    WatchdogConfig,
)
from edge.safety.smoother import SmoothedCommand, Smoother, SmootherConfig
from edge.safety.state import ClosestObstacle, SafetyMode, SafetyState, combine

__all__ = [
    "Arbiter",
    "ArbiterConfig",
    "ArbitratedCommand",
    "CameraStatus",
    "ClosestObstacle",
    "CommandSource",
    "LidarStatus",
    "SafetyLimits",
    "SafetyMode",
    "SafetyState",
    "SensorVerdict",
    "SensorWatchdog",
    "SmoothedCommand",
    "Smoother",
    "SmootherConfig",
    "StopRequest",
    "StopSource",
    "WatchdogConfig",
    "arbitrate",
    "combine",
]
