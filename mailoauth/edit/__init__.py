"""Edits: round-trip rewrites of stack files (secrets rotate/retire, adopt) with ruamel.yaml, and the edit transaction
every command that writes a project file uses."""
