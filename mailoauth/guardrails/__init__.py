"""Guardrails: the rules every desired app must pass, their levels and the policy file."""
