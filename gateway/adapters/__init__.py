"""Adapters: thin translations between the outside world and the service layer."""
