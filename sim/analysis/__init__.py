"""Analyses of run outputs: the empirical patterns and the pattern report (`recruitsim patterns`)."""
