"""Packaged configuration files (pilot.yaml: parameters of the pilot evaluation report)."""
