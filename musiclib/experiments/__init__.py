"""How the study is run: profiles (TOML), the grid of runs, its progress, the cluster it runs on,
its predicted cost, and the layer selection that the later chapters build on.
"""
