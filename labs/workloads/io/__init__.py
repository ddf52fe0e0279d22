"""The I/O lab's HTTP server, its launcher and the clients the I/O workloads use."""
