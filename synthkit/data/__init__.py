"""Tables in and out (polars), column kinds, and the bundled demo data."""

from synthkit.data.demo import load_demo
from synthkit.data.io import read_table, write_table
from synthkit.data.schema import ColumnSpec, Schema

__all__ = ["ColumnSpec", "Schema", "load_demo", "read_table", "write_table"]
