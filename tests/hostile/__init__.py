"""Hostile servers on loopback: the scan must end, explain itself and leave a valid report."""
