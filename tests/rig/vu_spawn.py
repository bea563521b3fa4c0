#!/usr/bin/env python3
# vu_spawn.py SOCKET PIDFILE LOG PROG ARG...: bind and listen on the UNIX
# socket SOCKET, start PROG in its own session with that listening socket
# as fd 3 ("{fd}" in an ARG becomes 3), write its pid to PIDFILE, return.
# The socket listens before this returns, so a daemon started afterwards
# finds its vhost-user backend without waiting for it.
import os
import socket
import subprocess
import sys

path, pidfile, log, *argv = sys.argv[1:]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)


def as_fd3():
    os.dup2(s.fileno(), 3)


argv = [a.replace("{fd}", "3") for a in argv]
with open(log, "ab") as out:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=out, preexec_fn=as_fd3, pass_fds=(3,),
                         start_new_session=True)
with open(pidfile, "w") as f:
    f.write("%d\n" % p.pid)
