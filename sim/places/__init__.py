"""Where people meet: offline venues (`venues.py`) and online spaces (`online_spaces.py`)."""
