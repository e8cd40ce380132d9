"""Lesson 4: load an object from Python, run a command in a cgroup with it
attached, and read its map and global.  Usage: python3 04_read_counts.py OBJ"""
import socket
import subprocess
import sys

from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load

TYPE_NAMES = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "datagram"}

with TemporaryCgroup() as group, load(sys.argv[1]) as objects:
    objects.maps["by_type"][socket.SOCK_STREAM] = 100     # Python writes to the map too
    with objects["count_by_type"].attach(group.path):
        subprocess.run([sys.executable, "docs/tutorial/lessons/try_sockets.py"],
                       preexec_fn=lambda: group.add_pid(0), check=True, capture_output=True)
    print("total:", objects.globals["total"])
    for kind, count in sorted(objects.maps["by_type"].items()):
        print(f"{TYPE_NAMES[kind]} sockets: {count}")
