"""musiclib: the executable companion to Garcia-Valencia, Betancourt and Lalinde-Pulido,
"Sequence Generation using Deep Recurrent Networks and Embeddings: A study case in music"
(arXiv 2012.01231) and its follow-ups.

Modules, in the order data flows through them (imports only run down this list):

- ``musiclib.checks``, ``musiclib.files``: shared argument checks; atomic file writes
- ``musiclib.sequences``: melodies, the MIDI range, control / interval / DB12 variants, splits,
  vocabulary (numpy only); ``musiclib.prepared``: the folder ``prepare`` writes, read back
- ``musiclib.parsing``, ``musiclib.pickles``, ``musiclib.corpus``: reading music in (ABC tunes, the
  parse cache, worker processes, top voice; the original project's pickles, safely; bundled
  corpora and folders) and ``prepare``
- ``musiclib.cells``, ``musiclib.models``: NAS / UGRNN cells, embedding + stacked RNN models (Keras 3)
- ``musiclib.train``: the paper's training recipe, run directories, checkpoints, resume
- ``musiclib.generate``: batched sampling from trained models
- ``musiclib.ngram``, ``musiclib.scoring``: n-gram yardsticks; one scoring procedure for RNN and
  n-gram models on test songs
- ``musiclib.windows``, ``musiclib.metrics``: conjunct melodic motion, limited macroharmony,
  centricity (the vectorised kernels, then the metrics with their definitions)
- ``musiclib.stats``: bootstrap confidence intervals (BCa), comparisons with a baseline, Holm
  correction, hierarchical bootstrap
- ``musiclib.structure``, ``musiclib.memorisation``: short / long-term melody structure; copying
  from the training songs
- ``musiclib.embeddings``, ``musiclib.embedding_tests``: embedding neighbours, projections and
  their null models
- ``musiclib.sound``, ``musiclib.render``: melodies as MIDI files and audio; as MusicXML, sheet
  music (SVG) and a notebook view
- ``musiclib.tables``, ``musiclib.figures``: book-styled tables and published-baseline text;
  plotting helpers ``plot_xxx(..., ax=None) -> (fig, ax)``
- ``musiclib.published``: the paper series' published numbers
- ``musiclib.profiles``, ``musiclib.grid``, ``musiclib.cluster``: run profiles; the paper's grids
  and their executors (local processes, Dask / Slurm); ``musiclib.scaling``: their wall time on
  N workers
- ``musiclib.analyses``, ``musiclib.findings``: the chapters' analyses and their "What we found"
  sentences
- ``musiclib.notebook``, ``musiclib.console``, ``musiclib.playground``: notebook set-up, quiet
  logging, interactive exploration
- ``musiclib.reproduce``, ``musiclib.cli``: ``make reproduce``; ``python -m musiclib ...``

Importing ``musiclib`` is cheap: Keras is only imported by the modules that need it, music21 only
when music files are parsed.
"""

__version__ = "0.1.0"
