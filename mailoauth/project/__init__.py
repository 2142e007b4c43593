"""Project files: stack files read into the desired state (with the guardrails applied) and their JSON Schemas."""
