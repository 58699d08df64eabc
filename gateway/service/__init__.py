"""Use cases of the gateway; they talk to storage, clock and transports only through ports."""
