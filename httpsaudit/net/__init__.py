"""I/O: sockets, DNS, clocks and the OpenSSL adapter; foreign errors stop at this edge."""
