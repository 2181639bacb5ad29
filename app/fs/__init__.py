"""Filesystem backends behind one protocol (:mod:`app.fs.base`)."""
