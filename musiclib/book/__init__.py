"""Everything that turns notebooks into the book: notebook setup and paths, the departures page,
the run record and the machine it names, ``reproduce`` and the published edition.
"""
