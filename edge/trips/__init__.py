"""The chair's trips: the rules for the monitor's commands, shared by every host.

The seed of the chair's trip state machine: the rules telemetry_node and the serial host both
follow live here, once (edge/trips/commands.py), with the assigned trip on disk
(edge/trips/store.py) and what a restart does with it (edge/trips/restore.py).
"""

__all__: list[str] = []
