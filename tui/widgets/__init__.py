"""Widgets shared by features."""
