"""Collectors: ways of getting device configs into a run (folder import here; SSH pulls in their own modules)."""
