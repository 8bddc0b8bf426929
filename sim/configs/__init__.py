"""Hydra settings shared by the commands (the ``hydra`` config group), found through each
primary config's ``hydra.searchpath``."""
