"""musiclib: the executable companion to Garcia-Valencia, Betancourt and Lalinde-Pulido,
"Sequence Generation using Deep Recurrent Networks and Embeddings: A study case in music"
(arXiv 2012.01231) and its follow-ups.

Modules by concern (the book's API page documents each, in these groups; a module imports only
modules of its own group or of the groups above it):

- Foundations: ``checks``, ``files``, ``console``, ``published``
- Melodies as sequences: ``sequences``, ``prepared``
- Reading music in: ``pickles``, ``parsing``, ``corpus``
- Measures and statistics: ``windows``, ``metrics``, ``structure``, ``stats``, ``scoring``,
  ``ngram``, ``memorisation``, ``embeddings``
- Sound and scores: ``sound``, ``tables``, ``render``
- Models and training: ``cells``, ``models``, ``recipe``, ``runfiles``, ``training_loop``,
  ``train``, ``generate``
- Experiments: ``profiles``, ``cluster``, ``scaling``, ``grid``, ``progress``, ``analyses``, ``yardsticks``,
  ``replicates``, ``cross_entropy_runs``, ``cross_entropy``, ``cross_entropy_claim``,
  ``embedding_tests``, ``embedding_study``
- The book: ``departures``, ``comparisons``, ``findings``, ``embedding_findings``, ``figures``,
  ``paths``, ``playground``, ``playground_ui``, ``notebook``, ``run_record``, ``edition``,
  ``reproduce``, ``cli``

Importing ``musiclib`` is cheap: Keras is only imported by the modules that need it, music21 only
when music files are parsed.
"""

__version__ = "0.1.0"
