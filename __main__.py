"""Pulumi entry point: reads the stack's config, registers the mail apps, exports their endpoints."""

from mailoauth.deploy.program import run

run()
