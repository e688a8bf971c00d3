"""Chapter 2 (``notebooks/02_layers``): the grid of cells x depths, its learning curves, the layer
selection and the n-gram yardsticks on the test set.
"""
