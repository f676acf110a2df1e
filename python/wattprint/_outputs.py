"""File outputs of the Python layer: CodeCarbon's one-tracker lock and the
on_csv_write="update" rewrite. Plain appends are the library's
(AppendCsvRow, through wattprint._native)."""

import os


def lock_path():
    import tempfile

    return os.path.join(tempfile.gettempdir(), ".wattprint.lock")


class Lock:
    """CodeCarbon's one-tracker-at-a-time lock, as an flock (released by the
    kernel if the process dies, so a crash leaves no stale lock behind)."""

    def __init__(self):
        import fcntl

        self.path = lock_path()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = -1
            raise

    def release(self):
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def upsert_row(directory, filename, data, columns):
    """on_csv_write="update": replace the row with this run_id, or append.

    Returns the path written, or None when the file has other columns (the
    caller then appends, which picks a sibling file). Locked with flock like
    the library's appends, so the two never interleave."""
    import csv
    import fcntl

    os.makedirs(directory or ".", exist_ok=True)
    path = os.path.join(directory or ".", filename)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    with open(fd, "r+", newline="", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        rows = list(csv.reader(f))
        if rows and tuple(rows[0]) != columns:
            return None
        body = rows[1:]
        fields = data.csv_fields()
        key = columns.index("run_id")
        for i, row in enumerate(body):
            if len(row) > key and row[key] == data.run_id:
                body[i] = fields
                break
        else:
            body.append(fields)
        f.seek(0)
        f.truncate()
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(body)
    return path
