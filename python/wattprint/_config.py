"""CodeCarbon-style settings: arguments, CODECARBON_* variables and the
`.codecarbon.config` INI files, merged with CodeCarbon's precedence.

Precedence, highest first (as CodeCarbon's get_hierarchical_config):
  1. arguments to the tracker or decorator
  2. CODECARBON_<NAME> environment variables   (CODECARBON_PUE=1.2)
  3. ./.codecarbon.config, section [codecarbon]  (pue = 1.2)
  4. ~/.codecarbon.config, section [codecarbon]
Below these come wattprint's own layers (WATTPRINT_* variables,
./wattprint.toml, ~/.config/wattprint/config.toml; docs/CLI.md), then the
Python package's defaults. The native library parses the values of shared
settings, so a bad value gives the same message as `wattprint run` would,
naming where it came from.
"""

import os

# CodeCarbon name -> wattprint config key (src/config/config.cpp).
SHARED = {
    "project_name": "project_name",
    "experiment_id": "experiment_id",
    "experiment_name": "experiment_name",
    "output_dir": "output_dir",
    "output_file": "output_file",
    "save_to_file": "save_to_file",
    "pue": "pue",
    "measure_power_secs": "interval",
    "tracking_mode": "scope",
    "force_cpu_power": "cpu_power",
    "country_iso_code": "country",
    "region": "region",
    "cloud_provider": "cloud_provider",
    "cloud_region": "cloud_region",
    "force_carbon_intensity_g_co2e_kwh": "intensity",
    "electricitymaps_api_token": "electricitymaps_token",
}
# Settings only the Python layer uses.
PYTHON_ONLY = (
    "on_csv_write", "force_ram_power", "gpu_ids", "log_level", "allow_multiple_runs",
    "api_call_interval", "api_endpoint", "api_key", "output_methods", "save_to_api", "save_to_logger",
    "save_to_prometheus", "save_to_logfire", "prometheus_url", "emissions_endpoint", "co2_signal_api_token",
    "logger_preamble", "wue", "force_mode_cpu_load", "rapl_include_dram", "rapl_prefer_psys",
    "country_2letter_iso_code",
)
KNOWN = tuple(SHARED) + PYTHON_ONLY
BOOLEANS = frozenset(("save_to_file", "allow_multiple_runs", "save_to_api", "save_to_logger",
                      "save_to_prometheus", "save_to_logfire", "force_mode_cpu_load", "rapl_include_dram",
                      "rapl_prefer_psys"))

# configparser's RawConfigParser.BOOLEAN_STATES, without importing it.
_BOOLEAN_STATES = {"1": True, "yes": True, "true": True, "on": True,
                   "0": False, "no": False, "false": False, "off": False}


class Setting:
    """One value and where it came from."""

    __slots__ = ("value", "where", "origin")

    def __init__(self, value, where, origin):
        self.value = value    # as given: text from env/file, any type from arguments
        self.where = where    # prefix of an error message: "CODECARBON_PUE=abc"
        self.origin = origin  # "env CODECARBON_PUE", "argument pue", "file /x/.codecarbon.config"


def parse_bool(setting):
    v = setting.value
    if isinstance(v, bool):
        return v
    b = _BOOLEAN_STATES.get(str(v).strip().lower())
    if b is None:
        raise ValueError(f"{setting.where}: expected true or false")
    return b


def _ignored(message):
    from ._log import log

    log("error", "%s; the file is ignored (it must start with a [codecarbon] section)", message)


def _read_ini(path):
    """The [codecarbon] section of an INI file; {} when the file is absent."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        _ignored(f"{path}: cannot read: {e.strerror}")
        return {}
    import configparser  # only when a file exists: import wattprint stays cheap

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as e:
        _ignored(f"{path}: not a valid INI file: {str(e).splitlines()[0]}")
        return {}
    if not parser.has_section("codecarbon"):
        return {}
    return dict(parser.items("codecarbon"))


def layered_settings(arguments, environ=None, cwd=None, home=None):
    """Merged settings: name -> Setting, for every name some layer sets.

    `arguments` holds only the arguments the caller actually passed.
    Other keys of the files and variables (api_key, save_to_api, ...) belong
    to CodeCarbon features wattprint does not have and are ignored.
    """
    environ = os.environ if environ is None else environ
    cwd = os.getcwd() if cwd is None else cwd
    home = os.path.expanduser("~") if home is None else home
    merged = {}
    for path in (os.path.join(home, ".codecarbon.config"), os.path.join(cwd, ".codecarbon.config")):
        for key, value in _read_ini(path).items():
            if key in KNOWN:
                merged[key] = Setting(value, f"{path}: {key} = {value}", f"file {path}")
    for key in KNOWN:
        var = "CODECARBON_" + key.upper()
        if var in environ:
            merged[key] = Setting(environ[var], f"{var}={environ[var]}", f"env {var}")
    for key, value in arguments.items():
        merged[key] = Setting(value, f"{key}={value!r}", f"argument {key}")
    return merged


def as_config_text(name, setting):
    """The text the native config parser expects for a shared setting."""
    v = setting.value
    if name in BOOLEANS:
        return "true" if parse_bool(setting) else "false"
    if isinstance(v, bool):
        raise ValueError(f"{setting.where}: expected a {'number' if name != 'tracking_mode' else 'string'}")
    if isinstance(v, float):
        return repr(v)
    return str(v).strip()
