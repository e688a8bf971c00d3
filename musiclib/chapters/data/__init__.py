"""Chapter 1 (``notebooks/01_data``): the corpus, the three variants, the vocabulary and the
dataset baseline next to the paper's TABLE I.
"""
