"""What a configuration may hold, and composing and checking one.

* :mod:`sim.config.schema`: every parameter's type, allowed range and meaning (structured
  configs that Hydra checks while composing).
* :mod:`sim.config.loading`: registering the schemas with Hydra, range and unknown-key checks with
  messages that name the key and where it was set, composing a config from Python, config hashes.
* :mod:`sim.config.posterior`: ``posterior=<name>``, parameters set from a calibration's draws.
"""
