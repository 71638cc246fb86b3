"""Recurrent Arithmetic Circuits: the spec, the recurrence (float and mod p) and partitions of time steps."""
