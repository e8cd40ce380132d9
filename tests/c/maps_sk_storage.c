// Socket storage with cgroup/sock_create and cgroup/sock_release: every
// inet socket created in the cgroup gets a record in sk storage (numbered
// from the .data counter), UDP sockets are counted in .bss globals while
// they are open, and a released UDP socket adds its number to a sum, so
// user space can tell which sockets the kernel saw go.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define IPPROTO_UDP 17

struct sock_record {
	__u32 serial;
	__u32 protocol;
	__u64 marks;         /* written from user space; the programs leave it */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sock_record);
} sock_records SEC(".maps");

__u32 next_serial = 100;     /* .data */
__u64 udp_open;              /* .bss */
__u64 udp_released_serials;  /* .bss */

SEC("cgroup/sock_create")
int record_create(struct bpf_sock *sk)
{
	struct sock_record *rec;

	rec = bpf_sk_storage_get(&sock_records, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!rec)
		return 1;
	rec->serial = next_serial++;
	rec->protocol = sk->protocol;
	if (sk->protocol == IPPROTO_UDP)
		udp_open++;
	return 1;
}

SEC("cgroup/sock_release")
int record_release(struct bpf_sock *sk)
{
	struct sock_record *rec;

	if (sk->protocol != IPPROTO_UDP)
		return 1;
	rec = bpf_sk_storage_get(&sock_records, sk, 0, 0);
	if (!rec)
		return 1;
	udp_open--;
	udp_released_serials += rec->serial;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
