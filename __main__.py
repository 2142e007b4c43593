"""Pulumi entry point: reads the stack's config, registers the mail apps, exports their endpoints."""

from mailoauth.program import run

run()
