"""The HPy API as data: ``table`` declares every context member, ``autogen``
writes every file derived from it (headers, runtime tables, trampolines)."""
