"""FreeFileSync job files (``.ffs_batch`` / ``.ffs_gui``) read into Syncpane jobs.

The public entry points live in :mod:`app.core.ffs_import`; this package holds
the parts: safe XML reading, filter conversion, locations and settings.
"""
