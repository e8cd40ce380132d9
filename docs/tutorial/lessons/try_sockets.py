"""What the lessons run inside a cgroup: a process that asks for three sockets."""
import socket

for name, family, kind in (("TCP over IPv4", socket.AF_INET, socket.SOCK_STREAM),
                           ("UDP over IPv4", socket.AF_INET, socket.SOCK_DGRAM),
                           ("UDP over IPv6", socket.AF_INET6, socket.SOCK_DGRAM)):
    try:
        socket.socket(family, kind).close()
        print(f"{name}: ok")
    except OSError as error:
        print(f"{name}: {error.strerror}")
