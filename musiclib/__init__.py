"""musiclib: the executable companion to Garcia-Valencia, Betancourt and Lalinde-Pulido,
"Sequence Generation using Deep Recurrent Networks and Embeddings: A study case in music"
(arXiv 2012.01231) and its follow-ups.

Modules, in the order data flows through them:

- ``musiclib.data``: corpora -> melodies -> control / interval / DB12 -> vocabulary, splits
- ``musiclib.cells``, ``musiclib.models``: NAS / UGRNN cells, embedding + stacked RNN models (Keras 3)
- ``musiclib.train``: the paper's training recipe, run directories, checkpoints, resume
- ``musiclib.generate``: batched sampling from trained models
- ``musiclib.metrics``: conjunct melodic motion, limited macroharmony, centricity
- ``musiclib.render``: MIDI / MusicXML / SVG / audio
- ``musiclib.experiments``, ``musiclib.published``: the paper's grids, profiles and published tables
- ``musiclib.cli``: ``python -m musiclib ...``

Importing ``musiclib`` is cheap: Keras is only imported by the modules that need it.
"""

__version__ = "0.1.0"
