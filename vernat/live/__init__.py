"""`vernat run`: the NAT on real interfaces (operator.py, session.py) and the built-in
demonstration on a testbed with real clients (embedded.py, clients.py)."""
