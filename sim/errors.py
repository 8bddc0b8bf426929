"""Errors that are the user's to fix: printed as one paragraph, never as a traceback."""


class UserError(Exception):
    """A mistake in the input or configuration; the message says what and how to fix it."""


class ConfigError(UserError):
    """A configuration value outside its schema range or choices."""


class RegionError(UserError):
    """A city table that cannot be used: missing file, column, or a bad value."""
