"""musiclib: the executable companion to Garcia-Valencia, Betancourt and Lalinde-Pulido,
"Sequence Generation using Deep Recurrent Networks and Embeddings: A study case in music"
(arXiv 2012.01231) and its follow-ups.

The folders are the module map (the book's API page is generated from them), from the bottom layer up:
``common`` (checks, atomic files, console), ``data`` (music in, sequences out), ``outputs`` (sheet
music, sound, tables, plots, sentences), ``models`` (cells, network, settings, training,
generation), ``measures`` (metrics, statistics, n-grams, scoring, memorisation, embeddings),
``experiments`` (profiles, grid, cluster, layer selection), ``chapters`` (one subpackage per chapter
of the book) and ``book`` (notebook setup, departures, run record, edition, reproduce); ``cli`` and
``published`` sit on top. A layer imports only the layers below it; ``make test`` checks this with
import-linter (``pyproject.toml``).

Importing ``musiclib`` is cheap: Keras is only imported by the modules that need it, music21 only
when music files are parsed.
"""

__version__ = "0.1.0"
