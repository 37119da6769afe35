"""The ``chairlink`` command line: noun, then verb (``chairlink firmware sim``)."""

__all__: list[str] = []
