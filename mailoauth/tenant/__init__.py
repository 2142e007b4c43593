"""Tenant comparisons: drift, preflight, consent, adoption and scope sync over records `graph` has read."""
