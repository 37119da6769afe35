"""The wire contract between a chair and the hospital monitor: MQTT topics and payloads."""

__all__: list[str] = []
