"""Sans-IO TLS: bytes in, messages and events out. No sockets, clocks, threads or I/O here."""
