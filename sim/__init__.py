"""recruitsim: an agent-based model of how people are drawn into cybercriminal networks."""

__version__ = "0.1.0"
