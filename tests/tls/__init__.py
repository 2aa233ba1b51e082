"""Sans-IO TLS tests: the only tests that read recorded bytes (``fixtures/vectors``)."""
