"""The networks and how they learn: cells, the note-embedding + stacked-RNN network, the training
settings, run folders, the training loop, ``train`` and ``generate``.
"""
