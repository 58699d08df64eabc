"""Pure domain of the gateway: MSISDNs, the command grammar, SMS encoding, entities."""
