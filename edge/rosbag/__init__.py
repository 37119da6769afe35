"""rosbag2 in and out, with the rosbags library: what the simulator records and replay reads."""

from edge.rosbag.errors import BagError
from edge.rosbag.reader import BagInfo, BagMessage, BagReader, ReadIssue, TopicInfo
from edge.rosbag.sim_topics import SimTopics
from edge.rosbag.writer import BagWriter, Storage, ros_messages

__all__ = [
    "BagError",
    "BagInfo",
    "BagMessage",
    "BagReader",
    "BagWriter",
    "ReadIssue",
    "SimTopics",
    "Storage",
    "TopicInfo",
    "ros_messages",
]
