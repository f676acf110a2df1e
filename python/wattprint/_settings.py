"""The settings vocabulary of the tracker: CodeCarbon 3.3's parameters in
its order, their defaults, those accepted with no effect, and the parsers
that turn one setting (a value and where it came from) into a value or a
ValueError that names it. _tracker.py merges the layers; this module only
reads one value at a time.
"""

import os

from ._log import log as _log

_UNSET = object()

# CodeCarbon 3.3's BaseEmissionsTracker parameters, in its order (all may be
# given by position), and their defaults.
_PARAMS = (
    "project_name", "measure_power_secs", "api_call_interval", "api_endpoint", "api_key", "output_dir",
    "output_file", "output_methods", "save_to_file", "save_to_api", "save_to_logger", "logging_logger",
    "save_to_prometheus", "save_to_logfire", "prometheus_url", "output_handlers", "gpu_ids",
    "emissions_endpoint", "experiment_id", "experiment_name", "electricitymaps_api_token",
    "co2_signal_api_token", "tracking_mode", "log_level", "on_csv_write", "logger_preamble",
    "force_cpu_power", "force_ram_power", "pue", "wue", "force_carbon_intensity_g_co2e_kwh",
    "force_mode_cpu_load", "allow_multiple_runs", "rapl_include_dram", "rapl_prefer_psys",
)
_LOCATION = ("country_iso_code", "region", "cloud_provider", "cloud_region", "country_2letter_iso_code")
_DEFAULTS = {
    "measure_power_secs": 15.0, "api_call_interval": 8, "api_endpoint": "https://api.codecarbon.io",
    "api_key": "api_key", "output_dir": ".", "output_file": "emissions.csv", "save_to_file": True,
    "save_to_api": False, "save_to_logger": False, "save_to_prometheus": False, "save_to_logfire": False,
    "prometheus_url": "localhost:9091", "experiment_name": "base", "tracking_mode": "machine",
    "log_level": "info", "on_csv_write": "append", "logger_preamble": "", "pue": 1.0, "wue": 0.0,
    "force_mode_cpu_load": False, "allow_multiple_runs": True, "rapl_include_dram": False,
    "rapl_prefer_psys": False,
}
# Accepted, and documented as having no effect (docs/PYTHON.md says why).
_NO_EFFECT = {
    "force_mode_cpu_load": "wattprint's CPU estimate always follows the CPU load",
    "rapl_include_dram": "wattprint reports the RAPL DRAM domain as ram_energy, measured; energy_consumed "
                         "is the same either way",
    "rapl_prefer_psys": "wattprint's own RAPL domain policy applies (package and DRAM; psys only alone, "
                        "docs/sources/powercap.md)",
}
def _utf8(text):
    """Text the native library can take: a lone surrogate (from a file name
    decoded with surrogateescape, say) becomes U+FFFD and a NUL, which no CSV
    field or C string can hold, is dropped, instead of an internal TypeError
    or a raw NUL in emissions.csv."""
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
        clean = text
    except UnicodeEncodeError:
        clean = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    clean = clean.replace("\x00", "")
    if clean != text:
        _log("warning", "%r: characters that are not valid text were replaced", text)
    return clean


class _Bad(ValueError):
    """A setting CodeCarbon's EmissionsTracker would reject."""


def _number(setting, minimum=None, above=False, integer=False):
    v = setting.value
    if isinstance(v, bool):
        raise ValueError(f"{setting.where}: expected a number")
    try:
        n = int(v) if integer and not isinstance(v, float) else float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{setting.where}: expected a number") from None
    if n != n or n in (float("inf"), float("-inf")):
        raise ValueError(f"{setting.where}: expected a finite number")
    if minimum is not None and (n < minimum or (above and n == minimum)):
        raise ValueError(f"{setting.where}: must be {'>' if above else '>='} {minimum}")
    return n


def _text(setting):
    v = setting.value
    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    if isinstance(v, bytes):
        v = os.fsdecode(v)
    if not isinstance(v, str):
        raise ValueError(f"{setting.where}: expected a string")
    return v


def _parse_gpu_ids(setting):
    """[0, 2] or "0,2" -> [0, 2]; anything else is a ValueError."""
    v = setting.value
    items = v.split(",") if isinstance(v, str) else v
    try:
        ids = [int(str(i).strip()) for i in items]
    except (TypeError, ValueError):
        raise ValueError(f"{setting.where}: expected a list of GPU indexes like [0, 1] or \"0,1\"") from None
    if any(i < 0 for i in ids):
        raise ValueError(f"{setting.where}: GPU indexes are >= 0")
    return ids


def _parse_output_methods(setting):
    from ._outputs import OutputMethod

    v = setting.value
    items = [i.strip() for i in v.split(",") if i.strip()] if isinstance(v, str) else list(v)
    out = []
    for item in items:
        try:
            out.append(item if isinstance(item, OutputMethod) else OutputMethod(str(item).strip().lower()))
        except ValueError:
            raise _Bad(f"{setting.where}: {item!r} is not an output method "
                       f"({', '.join(m.value for m in OutputMethod)})") from None
    return out


def _choice(setting, choices):
    v = _text(setting).strip()
    if v not in choices:
        raise _Bad(f"{setting.where}: expected {' or '.join(repr(c) for c in choices)}")
    return v
