#!/usr/bin/env bash
# Load every program of a BPF object into the kernel and print what the
# kernel runs, interleaved with the source lines it came from; then unload.
# Usage: scripts/demo.sh OBJECT.o    (as root, with bpftool installed)
set -euo pipefail

obj=${1:?usage: $0 OBJECT.o}
PATH=$PATH:/usr/sbin:/sbin   # Debian's bpftool lives in /usr/sbin

bpffs=$(mktemp -d "${TMPDIR:-/tmp}/pybpfc-demo.XXXXXX")
mounted=

cleanup() {
    set +e   # clean up as much as possible even if one step fails
    if [[ -n $mounted ]]; then
        # Dropping the pins (and the mount) unloads the programs.
        rm -rf "${bpffs:?}/progs"
        umount "$bpffs" || umount -l "$bpffs"
    fi
    rmdir "$bpffs"
}
trap cleanup EXIT
# Turn signals into an exit so the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

mount -t bpf bpf "$bpffs"
mounted=1

bpftool prog loadall "$obj" "$bpffs/progs"
shopt -s nullglob
for pin in "$bpffs"/progs/*; do
    echo "== $(basename "$pin")"
    bpftool prog dump xlated pinned "$pin" linum
done
