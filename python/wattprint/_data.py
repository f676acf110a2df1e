"""EmissionsData: one emissions.csv row as an object (CodeCarbon's name).

The row is built by the native library (the same row `wattprint run`
writes) as typed values: floats, ints and strings straight from the figures,
never parsed back from text. An unknown quantity (a GPU that exists but
cannot be read) is None, never 0; a machine without a GPU has a measured 0.
"""


class EmissionsData:
    """The fields of one emissions.csv row, as attributes.

    Units as in the CSV (docs/OUTPUTS.md): duration in s, emissions in kg CO2e,
    emissions_rate in kg/s, *_power in W, *_energy and energy_consumed in kWh
    (PUE applied), water_consumed in L, ram_total_size and ram_used_gb in GiB.
    """

    __slots__ = ("_columns", "_fields", "__dict__")

    def __init__(self, columns, row):
        values, fields = row
        if len(columns) != len(values) or len(columns) != len(fields):
            raise ValueError("a row needs one field per column")
        object.__setattr__(self, "_columns", tuple(columns))
        object.__setattr__(self, "_fields", tuple(fields))
        for column, value in zip(columns, values):
            self.__dict__[column] = value

    @property
    def values(self):
        """The fields as a dict, in CSV column order."""
        return {c: self.__dict__[c] for c in self._columns}

    def csv_fields(self):
        """The fields as the CSV text the library wrote."""
        return list(self._fields)

    def __eq__(self, other):
        return isinstance(other, EmissionsData) and self.values == other.values

    def __repr__(self):
        inner = ", ".join(f"{c}={self.__dict__[c]!r}" for c in self._columns)
        return f"EmissionsData({inner})"
