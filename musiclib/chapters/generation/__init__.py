"""Chapter 3 (``notebooks/03_generation``): songs from the selected models, their tonality metrics
next to the paper's TABLE III and IV, seed replicates and memorisation.
"""
