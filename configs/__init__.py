"""Hydra configuration tree, installed as the package ``sim.configs``."""
