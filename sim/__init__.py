"""sim: an agent-based simulator of cooperation and competition among the cities of a
Chinese urban agglomeration, and of the institutions that make cooperation pay."""

__version__ = "0.1.0"
