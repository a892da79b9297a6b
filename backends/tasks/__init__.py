"""Hugging Face pipeline tasks beyond chat: one protocol (protocol.py), the transformers
engine, task detection from what is on disk, inputs and their refusals."""
