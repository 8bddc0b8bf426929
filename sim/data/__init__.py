"""Embedded city tables of the default regions (see README.md in this directory)."""
