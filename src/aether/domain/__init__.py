"""Value types and events shared by every mode. Pure: no I/O, no wall clock."""
