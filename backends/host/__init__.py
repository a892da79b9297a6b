"""Engines in their own processes: a native crash never takes the app down, and an
unload gives every byte back (the host process exits).

`client.EngineHost` runs any engine class ("module:Class") in a child process
(`child.py`); `chat_proxy.HostedChatEngine` is a ChatEngine over one; `crash.py` turns
a host's death into a message a user can act on; `spawn.py` starts children from one
long-lived thread and keeps a pre-started spare.
"""
