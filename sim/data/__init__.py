"""The cities the model runs on (tables, sources and caveats: README.md in this directory).

* :mod:`sim.data.region`: the :class:`Region` type and :func:`load_region`, which reads a shipped
  table, a user's CSV or a synthetic layout and keeps shipped and synthetic tables cached.
* :mod:`sim.data.city_table`: a table's columns, CSV parsing, value checks and imputation.
* :mod:`sim.data.synthetic`: generated layouts of provinces, circles and Zipf-sized cities.
"""

from sim.data.city_table import COLUMNS
from sim.data.region import EMBEDDED, Region, load_region
from sim.data.synthetic import synthetic_cities

__all__ = ["Region", "load_region", "synthetic_cities", "EMBEDDED", "COLUMNS"]
