"""Desired state: the model (Stack, App, Permission, SecretSlot), the scope catalogue, clouds and endpoints."""
