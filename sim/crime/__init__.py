"""Criminal networks: their table of state, roles, membership, offending, enforcement and life cycle."""
