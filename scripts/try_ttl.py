"""What `make demo` runs inside the hooked cgroup: two socket options, one
the example refuses and one it lets through."""
import socket

SOL_IP, IP_TTL, IP_TOS = 0, 2, 1

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for name, option, value in (("IP_TTL", IP_TTL, 5), ("IP_TOS", IP_TOS, 0x10)):
    try:
        sock.setsockopt(SOL_IP, option, value)
        print(f"setsockopt({name}) -> ok", flush=True)
    except OSError as err:
        print(f"setsockopt({name}) -> {err.strerror}", flush=True)
