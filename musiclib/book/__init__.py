"""Everything that turns notebooks into the book: notebook setup and paths, the departures page,
the run record, ``reproduce`` and the published edition.
"""
