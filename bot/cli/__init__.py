"""The `tutorbot` command line."""
