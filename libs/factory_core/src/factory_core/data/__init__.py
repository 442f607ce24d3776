"""MongoDB: one client per process, declared indexes, leases."""
