"""Speech to text: the engine contract, faster-whisper, the microphone, subtitle files."""
