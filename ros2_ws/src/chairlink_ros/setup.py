"""chairlink_ros: the chair's ROS 2 nodes, installed the way `ros2 run` and launch expect."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "chairlink_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/params", glob("params/*.yaml")),
        # launch/ is a link to the repository's top-level launch/ folder.
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="chairlink engineering",
    maintainer_email="engineering@chairlink.dev",
    description="ROS 2 nodes of the chairlink wheelchair",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"firmware_bridge_node = {PACKAGE}.firmware_bridge_node:main",
            f"sim_node = {PACKAGE}.sim_node:main",
            f"telemetry_node = {PACKAGE}.telemetry_node:main",
            f"vitals_node = {PACKAGE}.vitals_node:main",
        ],
    },
)
