"""Logging: every message goes to the "codecarbon" logger, set up as
CodeCarbon sets it up (its own stderr handler, "[codecarbon INFO @
12:00:00] message", level from log_level, info by default, no propagation
to the root logger), so that users' settings for it, and
assertLogs("codecarbon"), keep applying; and to the "wattprint" logger,
which has no handler of its own and does not propagate either, so that a
message is never printed twice: attach a handler to it to route
wattprint's messages on their own.

`logging` is imported on the first message or tracker, not at
`import wattprint`.
"""

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50, "fatal": 50,
           "notset": 0}
_state = {"set_up": False}


def _loggers():
    import logging

    cc, wp = logging.getLogger("codecarbon"), logging.getLogger("wattprint")
    if not _state["set_up"]:
        _state["set_up"] = True
        wp.propagate = False
        if not wp.handlers:
            wp.addHandler(logging.NullHandler())
        cc.propagate = False
        if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                   for h in cc.handlers):
            _add_stream_handler(cc, "")
        if cc.level == logging.NOTSET:
            cc.setLevel(logging.INFO)
    return cc, wp


def _add_stream_handler(logger, preamble):
    import logging

    h = logging.StreamHandler()
    pre = f"[{preamble}]" if preamble else ""
    h.setFormatter(logging.Formatter(f"[%(name)s %(levelname)s @ %(asctime)s]{pre} %(message)s", "%H:%M:%S"))
    h._wattprint = True  # noqa: SLF001 - ours, replaced by configure()
    logger.addHandler(h)


def level_number(value):
    """A log_level as a number, or None when it is not one (names in any
    case, or 0/10/20/30/40/50)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in (0, 10, 20, 30, 40, 50) else None
    return _LEVELS.get(str(value).strip().lower())


def configure(level, preamble=""):
    """What each tracker does, as CodeCarbon's: sets the level of both
    loggers and replaces the stream handler wattprint added (file handlers
    and the user's own handlers are kept)."""
    cc, wp = _loggers()
    n = level_number(level)
    if n is None:
        log("error", "log_level=%r is not a log level (debug, info, warning, error, critical); the level is "
            "left as it is", level)
    else:
        cc.setLevel(n)
        wp.setLevel(n)
    if preamble:
        for h in list(cc.handlers):
            if getattr(h, "_wattprint", False):
                cc.removeHandler(h)
        _add_stream_handler(cc, preamble)


def log(level, msg, *args, exc_info=None):
    """Logs on both loggers at `level` ("info", "warning", ...)."""
    n = _LEVELS[level]
    for logger in _loggers():
        if logger.isEnabledFor(n):
            logger.log(n, msg, *args, exc_info=exc_info)
