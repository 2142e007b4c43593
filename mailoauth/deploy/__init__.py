"""Deploy: the Pulumi program and the CrossGuard adapter, the only modules that import Pulumi."""
