"""Chapter 6 (``notebooks/06_playground``): compose with a trained model, in the book and in
JupyterLab.
"""
