"""Bring up one chair's nodes under its own namespace: the firmware bridge to the motor MCU,
the telemetry link to the hospital monitor, and the patient's oximeter.

    ros2 launch chairlink_ros chair.launch.py namespace:=chair_01 \\
        params_file:=/etc/chairlink/chair.params.yaml

The params file is generated from the chair's chair.yaml with `chairlink ros params`; the one
installed in the package's share folder holds the defaults of configs/chair.yaml.
"""

from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    """The chair's nodes, with namespace, sim time and params file as arguments."""
    namespace = LaunchConfiguration("namespace")
    use_sim_time = LaunchConfiguration("use_sim_time")
    params_file = LaunchConfiguration("params_file")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "namespace",
                default_value="chair_01",
                description="Namespace of this chair's topics, services and nodes",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                description="Stamp messages with /clock time (bag replay, simulation)",
            ),
            DeclareLaunchArgument(
                "params_file",
                default_value=PathJoinSubstitution(
                    [FindPackageShare("chairlink_ros"), "params", "chair.params.yaml"]
                ),
                description="ros__parameters file generated from chair.yaml",
            ),
            Node(
                package="chairlink_ros",
                executable="firmware_bridge_node",
                name="firmware_bridge",
                namespace=namespace,
                parameters=[params_file, {"use_sim_time": use_sim_time}],
                output="screen",
                emulate_tty=True,
            ),
            Node(
                package="chairlink_ros",
                executable="telemetry_node",
                name="telemetry",
                namespace=namespace,
                parameters=[params_file, {"use_sim_time": use_sim_time}],
                output="screen",
                emulate_tty=True,
            ),
            Node(
                package="chairlink_ros",
                executable="vitals_node",
                name="vitals",
                namespace=namespace,
                parameters=[params_file, {"use_sim_time": use_sim_time}],
                output="screen",
                emulate_tty=True,
            ),
        ]
    )
