"""Chapter 3 (``notebooks/03_generation``): songs from the selected models, their tonality metrics
next to the paper's TABLE III and IV with the rank agreement, each model's deviation from its own
training songs, seed replicates, the copying check, and Holm's correction over the chapter's tests.
"""
