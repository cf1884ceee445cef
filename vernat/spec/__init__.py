"""vernat's executable specification (RFC 3022 NAPT, version 1).

Written from docs/semantics.md on its own, never from the implementation:
`rfc3022.spec_frame` says what must happen to one frame, `abstract_state`
is the abstract flow table it runs on under CPython.
"""
