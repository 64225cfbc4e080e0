"""The sync fault-injection lab: central and halls as real processes, the soak harness and
the hall workload it drives (used by tests/sync/test_faults.py and bench/sync_soak.py)."""
