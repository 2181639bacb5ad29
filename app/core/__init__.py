"""The sync engine: pure Python and asyncio, no Qt, no keyring."""
