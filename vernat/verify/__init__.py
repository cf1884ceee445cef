"""`vernat verify`: symbolic execution of the per-packet code with Z3."""
