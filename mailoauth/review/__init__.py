"""Review: the plan document, the diff between revisions and its rendering, the secrets report."""
