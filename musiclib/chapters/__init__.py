"""One subpackage per chapter of the book: its analysis, tables, figures and "What we found".

A chapter imports the layers below it (experiments, measures, models, outputs, data, common), never
another chapter or :mod:`musiclib.book`.
"""

BOOK_ORDER = ("data", "layers", "generation", "embeddings", "cross_entropy", "playground")
"""The chapter subpackages in the order of the book (notebooks ``01_data`` ... ``06_playground``)."""
