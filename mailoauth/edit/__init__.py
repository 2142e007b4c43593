"""Edits: round-trip rewrites of stack files (secrets rotate/retire, adopt) with ruamel.yaml."""
