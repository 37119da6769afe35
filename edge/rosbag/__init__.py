"""rosbag2 in and out, with the rosbags library: what the simulator records and replay reads.

Also the one edge <-> ROS message mapping (conversions) and serialisation (cdr) the nodes use.
"""

from edge.rosbag.cdr import serialize
from edge.rosbag.errors import BagError, ConversionError
from edge.rosbag.reader import BagInfo, BagMessage, BagReader, ReadIssue, TopicInfo
from edge.rosbag.sim_topics import SimTopics
from edge.rosbag.writer import BagWriter, Storage, ros_messages

__all__ = [
    "BagError",
    "BagInfo",
    "BagMessage",
    "BagReader",
    "BagWriter",
    "ConversionError",
    "ReadIssue",
    "SimTopics",
    "Storage",
    "TopicInfo",
    "ros_messages",
    "serialize",
]
