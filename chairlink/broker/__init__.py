"""The hospital's Mosquitto: who may log in, and where each login may publish and subscribe."""

from chairlink.broker.users import (
    BrokerError,
    BrokerUsers,
    acl_text,
    load_broker_users,
    write_password_file,
    write_users,
)

__all__ = [
    "BrokerError",
    "BrokerUsers",
    "acl_text",
    "load_broker_users",
    "write_password_file",
    "write_users",
]
