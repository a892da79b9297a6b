"""Tools a chat model may call: the app's own (builtin.py), MCP servers' (mcp_servers.py),
gathered in one Toolbox (toolbox.py); what the user always allows (permissions.py)."""
