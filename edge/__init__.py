"""Everything that runs on the chair, free of ROS: perception, safety, navigation, telemetry, sim.

Importing this package never loads rclpy, fastapi or the cloud side.
"""

__all__: list[str] = []
