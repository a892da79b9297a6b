"""Everything that runs models or touches the Hub or the hardware.

Plain Python: nothing here imports textual, rich or tui, and heavy libraries
(torch, transformers, diffusers, llama_cpp, faster_whisper) are imported inside
the functions that need them, so importing this package is cheap.
"""
