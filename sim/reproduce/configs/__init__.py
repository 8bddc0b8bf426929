"""The configs of ``python -m sim reproduce``: its primary config and the ``study`` group."""
