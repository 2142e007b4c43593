"""`mailoauth verify`: prove a provisioned app works end to end, and explain failures in plain words."""
