"""What is measured: the tonality metrics and their windows, structure, statistics, n-grams,
scoring networks and n-grams on the same notes, memorisation, embedding geometry and its tests.
"""
