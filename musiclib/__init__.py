"""musiclib: the executable companion to Garcia-Valencia, Betancourt and Lalinde-Pulido,
"Sequence Generation using Deep Recurrent Networks and Embeddings: A study case in music"
(arXiv 2012.01231) and its follow-ups.

Modules, from the bottom up (imports only run downwards):

- ``musiclib.data``: corpora -> melodies -> control / interval / DB12 -> vocabulary, splits
- ``musiclib.metrics``: conjunct melodic motion, limited macroharmony, centricity
- ``musiclib.cells``, ``musiclib.models``: NAS / UGRNN cells, embedding + stacked RNN models (Keras 3)
- ``musiclib.train``: the paper's training recipe, run directories, checkpoints, resume
- ``musiclib.generate``, ``musiclib.ngram``, ``musiclib.embeddings``: sampling, n-gram yardsticks,
  embedding statistics
- ``musiclib.render``: MIDI / MusicXML / SVG / audio; ``musiclib.published``: the papers' tables
- ``musiclib.profiles``: profile settings; ``musiclib.grid``: the grid of training runs and executors
- ``musiclib.analyses``, ``musiclib.embedding_study``, ``musiclib.cross_entropy``: the chapters' analyses
- ``musiclib.comparisons``, ``musiclib.findings``, ``musiclib.figures``: tables beside the paper's,
  "What we found" sentences, figures
- ``musiclib.console``, ``musiclib.notebook``: quiet logging, progress lines, notebook set-up
- ``musiclib.run_record``, ``musiclib.reproduce``, ``musiclib.cli``: ``python -m musiclib ...``

Importing ``musiclib`` is cheap: Keras is only imported by the modules that need it.
"""

__version__ = "0.1.0"
