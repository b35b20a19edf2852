"""Runs a command on a pseudo-terminal; when its output shows PROMPT, types ANSWER and Enter; prints all output.

Usage: python3 pty-answer.py PROMPT ANSWER COMMAND [ARG...]
Exits with the command's code. A prompt that never appears is never answered (the command runs to its end).
"""
import os
import pty
import sys

prompt = sys.argv[1].encode()
answer = sys.argv[2].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
out = bytearray()
answered = False
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not data:
        break
    out += data
    if not answered and prompt in out:
        os.write(fd, answer)
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.exit(os.waitstatus_to_exitcode(status))
