"""Chapter 5 (``notebooks/05_cross_entropy``): does a lower cross-entropy give better songs? Losses
and measures along training, and the claim's verdict.
"""
