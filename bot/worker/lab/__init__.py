"""Torch-side helpers for experiments; imported only inside the worker's child processes.

`data` generates the source and target tasks, `nets` holds the small CNN, `train` the loops,
`source` pretrains and caches the stand-in model, `weights` finds torchvision weights on
disk, `env` seeds and picks threads, `plots` draws the figures.
"""
