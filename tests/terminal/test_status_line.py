"""The live status line, seen on a real terminal emulator (pyte) behind a pty.

The command's output must stay on the screen as the command wrote it: the
status line is drawn on the terminal's last row only, and is gone when the
run ends.
"""
import os
import pty
import select
import subprocess
import time

import pyte
import pytest

WATTPRINT = os.environ["WP_TEST_WATTPRINT"]
ROWS, COLS = 12, 100


def run_on_terminal(command, rows=ROWS, cols=COLS, term="xterm", preload_lines=0, resize=None):
    """Runs `wattprint run` with a pty as its terminal; returns (screen, rc, snapshots).

    snapshots are the screen's rows, taken whenever output arrived while the
    command ran.
    """
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    # Fill the screen first, so that the cursor starts on the last row.
    stream.feed(b"".join(b"line %d\r\n" % i for i in range(preload_lines)))
    master, slave = pty.openpty()
    import fcntl, struct, termios
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM=term, XDG_CACHE_HOME="/nonexistent/cache")
    home = os.environ.get("WP_TEST_TMP", "/tmp")
    proc = subprocess.Popen(
        [WATTPRINT, "run", "--no-cloud-metadata", "--no-save", "--interval", "0.1", "--"] + command,
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=home, close_fds=True)
    os.close(slave)
    snapshots = []
    resized = False
    start = time.monotonic()
    while True:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            stream.feed(data)
            snapshots.append(list(screen.display))
        if resize and not resized and time.monotonic() - start > 0.8:
            new_rows, new_cols = resize
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", new_rows, new_cols, 0, 0))
            screen.resize(new_rows, new_cols)
            resized = True
        if time.monotonic() - start > 30:
            proc.kill()
            pytest.fail("wattprint did not finish")
    rc = proc.wait()
    os.close(master)
    return screen, rc, snapshots


def status_rows(snapshot):
    return [i for i, line in enumerate(snapshot) if "g CO2e" in line and " J  |" in line]


def test_prompt_without_newline_is_never_overwritten():
    # A screen tall enough that the summary does not scroll the prompt away.
    rows = 48
    prompt = "Continue? [y/N] "
    screen, rc, snapshots = run_on_terminal(
        ["sh", "-c", f"printf '%s' '{prompt}'; sleep 1.5; printf 'answered\\n'; exit 3"], rows=rows)
    assert rc == 3
    drawn = [s for s in snapshots if status_rows(s)]
    assert drawn, "the status line was never drawn"
    for snap in drawn:
        # Only on the last row, and the prompt is intact on every frame.
        assert status_rows(snap) == [rows - 1], snap
        assert any(line.startswith(prompt) for line in snap[:-1]), snap
    # At the end the prompt and what followed are on screen, the status line is gone.
    assert any(line.startswith(prompt + "answered") for line in screen.display), screen.display
    assert not status_rows(screen.display), "the live status line was left on screen"


def test_output_scrolls_above_the_status_row_from_the_last_row():
    # The cursor starts on the last row and the command prints many lines:
    # none of them is ever written over, and the region is given back.
    screen, rc, snapshots = run_on_terminal(
        ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo out$i; sleep 0.1; done"],
        preload_lines=ROWS - 1)
    assert rc == 0
    drawn = [s for s in snapshots if status_rows(s)]
    assert drawn
    for snap in drawn:
        assert status_rows(snap) == [ROWS - 1], snap
        outs = [int(line.strip()[3:]) for line in snap if line.startswith("out")]
        # The lines on screen are consecutive: none lost under the status row.
        assert outs == list(range(outs[0], outs[0] + len(outs))) if outs else True, snap
    # Whatever the terminal shows at the end, the scrolling region was reset:
    # a line fed now at the bottom scrolls the whole screen.
    assert screen.margins is None or (screen.margins.top, screen.margins.bottom) == (0, ROWS - 1), \
        screen.margins


def test_resize_moves_the_status_row():
    screen, rc, snapshots = run_on_terminal(["sleep", "2"], resize=(16, 90))
    assert rc == 0
    late = [s for s in snapshots if len(s) == 16 and status_rows(s)]
    assert late, "no status line after the resize"
    assert all(status_rows(s) == [15] for s in late)


def test_dumb_terminal_gets_no_status_line():
    screen, rc, snapshots = run_on_terminal(["sleep", "1"], term="dumb")
    assert rc == 0
    assert not any(status_rows(s) for s in snapshots)
