"""ROS 2 adapters of chairlink: each node converts messages and calls the ROS-free core."""
