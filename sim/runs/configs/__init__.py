"""The configs of ``python -m sim run``: primary config, regions, model, experiments, overlays."""
