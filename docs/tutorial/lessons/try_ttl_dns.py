"""What lesson 6 runs inside a cgroup: sets IP_TTL on a UDP socket
connected to 127.0.0.1 port 53.  A UDP connect() sends nothing."""
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 4321))             # source port 4321
sock.connect(("127.0.0.1", 53))
print("source port:", sock.getsockname()[1])
try:
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 5)
    print("setsockopt(IP_TTL): ok")
except OSError as error:
    print(f"setsockopt(IP_TTL): {error.strerror}")
