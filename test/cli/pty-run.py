"""Runs a command on a pseudo-terminal of a given width; prints everything it wrote; exits with its code.

Usage: python3 pty-run.py COLUMNS COMMAND [ARG...]
With PTY_PROMPT and PTY_ANSWER in the environment, types PTY_ANSWER and Enter once the output shows PTY_PROMPT.
"""
import fcntl
import os
import pty
import struct
import sys
import termios

columns = int(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    # The child's stdin is the terminal's slave side: its window size is what the command reads.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    os.execvp(sys.argv[2], sys.argv[2:])
prompt = os.environ.get("PTY_PROMPT", "").encode()
answered = not prompt
out = bytearray()
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not data:
        break
    out += data
    if not answered and prompt in out:
        os.write(fd, os.environ.get("PTY_ANSWER", "").encode() + b"\n")
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.exit(os.waitstatus_to_exitcode(status))
