"""Engines in their own processes: a native crash never takes the app down, and an
unload gives every byte back (the host process exits).

`client.EngineHost` runs any engine class ("module:Class") in a child process
(`child.py`; its process half, start/close/kill and memory, is `process.py`);
`hosted_engine.HostedEngine` is the base of every capability's proxy over one (load
cleanup, reload after a crash, cancel within a grace, memory); `chat_proxy` and
`speech_proxy` (and `backends/image/hosted.py`) are those proxies; `crash.py` turns a
host's death into a message a user can act on; `spawn.py` starts children from one
long-lived thread and keeps a pre-started spare.
"""
