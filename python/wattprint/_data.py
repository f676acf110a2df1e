"""EmissionsData: one emissions.csv row as an object (CodeCarbon's name).

The row itself is built by the native library (the same row `wattprint run`
writes); this class only gives its fields Python types. An empty field means
the quantity is unknown (for example no GPU), and becomes None, never 0.
"""

# Columns whose text is a number (float), and those that are counts (int).
_FLOATS = frozenset((
    "duration", "emissions", "emissions_rate", "cpu_power", "gpu_power", "ram_power",
    "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
    "longitude", "latitude", "ram_total_size", "cpu_utilization_percent",
    "gpu_utilization_percent", "ram_utilization_percent", "ram_used_gb", "pue", "wue",
))
_INTS = frozenset(("cpu_count", "gpu_count"))


def _convert(column, text):
    if column in _FLOATS:
        return float(text) if text != "" else None
    if column in _INTS:
        return int(text) if text != "" else None
    return text


class EmissionsData:
    """The fields of one emissions.csv row, as attributes.

    Units as in the CSV (docs/OUTPUTS.md): duration in s, emissions in kg CO2e,
    emissions_rate in kg/s, *_power in W, *_energy and energy_consumed in kWh
    (PUE applied), water_consumed in L, ram_total_size and ram_used_gb in GiB.
    """

    __slots__ = ("_columns", "_fields", "__dict__")

    def __init__(self, columns, fields):
        if len(columns) != len(fields):
            raise ValueError("a row needs one field per column")
        object.__setattr__(self, "_columns", tuple(columns))
        object.__setattr__(self, "_fields", tuple(fields))
        for column, text in zip(columns, fields):
            self.__dict__[column] = _convert(column, text)

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
