"""Chapter 4 (``notebooks/04_embeddings``): the note embeddings, their neighbours, t-SNE maps and
the tests of octave and fifth relations.
"""
