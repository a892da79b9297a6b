"""Screens shared by features: model picker, help, confirmations."""
