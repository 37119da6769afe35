"""The simulated hospital: world, chair, sensors, scenarios, and rosbag2 recording."""

__all__: list[str] = []
