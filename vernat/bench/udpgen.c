// The UDP load generator of the live benchmark (vernat/bench/): 60-byte Ethernet/IPv4/
// UDP frames (64 on the wire with the FCS) from SRC_IP, source ports 1024.. (one per
// flow, round robin), to DST_IP:DST_PORT, paced at RATE frames/s for SECONDS, written
// into an AF_PACKET TX ring (TPACKET_V2, PACKET_QDISC_BYPASS) on IFNAME and addressed
// to DST_MAC (the next hop's: the device's inside MAC, or the sink's with no device).
// With PROBE_PORT and PROBE_RATE, it also sends PROBE_RATE latency probes per second
// from source port 1000 to PROBE_PORT, each carrying the CLOCK_REALTIME time (ns) read
// just before the send() that transmits it and a sequence number; the probe sink
// (probesink.c) subtracts it from the kernel's receive time stamp (one clock, one
// machine).
//
// Why a ring and not sendmmsg() on a raw socket (the first version): perf on the
// generator's core showed half of its time in the IP layer per frame (a route lookup
// and a dst allocated and freed through RCU per sendto, netfilter output, the qdisc
// layer) and in copying a msghdr per frame; with the ring, one send() hands a whole
// batch of prebuilt frames straight to the veth's transmit (dev_direct_xmit).
//
// Prints "OFFERED PROBES REFUSED": frames offered (taken by the veth or refused by
// it), probes sent, and of the offered frames those the veth refused (its peer's
// queue full: the kernel returns ENOBUFS and leaves the frame in the ring, where the
// next send() offers it again; each refusal is one frame offered and lost, as on a
// wire).  Exit 1 with one line on stderr when the socket cannot be set up.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#define FRAME_LEN 60        /* 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload */
#define FIRST_PORT 1024
#define MAX_FLOWS (65536 - FIRST_PORT)
#define PROBE_SPORT 1000
#define SLOT 128            /* ring frame size: tpacket2_hdr (32) + vnet header + frame */
#define BLOCK 4096
#define SLOTS 8192          /* 256 blocks of 32 frames: 1 MiB; > every queue on the path */
#define BATCH 64            /* most frames handed to one send() */
#define DATA (TPACKET_ALIGN(sizeof(struct tpacket2_hdr)))
#define VNET ((int)sizeof(struct virtio_net_hdr))
#define TX_LEN (VNET + FRAME_LEN)

static uint8_t *ring;

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct tpacket2_hdr *slot(long i)
{
	return (struct tpacket2_hdr *)(ring + (size_t)(i % SLOTS) * SLOT);
}

static volatile uint32_t *status(long i)
{
	return (volatile uint32_t *)&slot(i)->tp_status;
}

static void fill(uint8_t *p, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
		 uint32_t dst, int dport)
{
	memset(p, 0, FRAME_LEN);
	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	p[12] = 0x08;                                   // IPv4
	uint8_t *ip = p + 14;
	ip[0] = 0x45; ip[3] = FRAME_LEN - 14; ip[8] = 64; ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	uint32_t sum = 0;                               // header checksum: ports are not in it
	for (int i = 0; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = ~sum >> 8; ip[11] = ~sum & 0xff;
	uint8_t *udp = ip + 20;                         // checksum 0: none
	udp[2] = dport >> 8; udp[3] = dport & 0xff; udp[5] = 8 + 18;
	memcpy(udp + 8, "vernat-bench-frame", 18);
}

// Slots the kernel is done with (sent, or refused by the veth: each one offered).
static void reap(long *tail, long head, long *done)
{
	while (*tail < head && *status(*tail) == TP_STATUS_AVAILABLE) {
		++*tail;
		++*done;
	}
}

// Hand every filled slot to the veth.  A refusal (its peer's queue full) stops the
// kernel at that frame, which stays in the ring and goes out with the next send(): it
// is counted as one frame offered and lost, and takes the place of the next one due,
// so that retries do not raise the offered rate.
static void flush(int sock, long *refused, long *due_sent)
{
	if (send(sock, NULL, 0, MSG_DONTWAIT) < 0 && errno == ENOBUFS) {
		++*refused;
		++*due_sent;
	}
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", mac, mac + 1, mac + 2, mac + 3,
		      mac + 4, mac + 5) == 6;
}

int main(int argc, char **argv)
{
	if (argc != 9 && argc != 11) {
		fprintf(stderr, "usage: udpgen IFNAME DST_MAC SRC_IP DST_IP DST_PORT FLOWS RATE "
			"SECONDS [PROBE_PORT PROBE_RATE]\n");
		return 2;
	}
	uint8_t dmac[6], smac[6];
	uint32_t src, dst;
	int ifindex = if_nametoindex(argv[1]);
	int dport = atoi(argv[5]), flows = atoi(argv[6]);
	double rate = atof(argv[7]), seconds = atof(argv[8]);
	int probe_port = argc == 11 ? atoi(argv[9]) : 0;
	double probe_rate = argc == 11 ? atof(argv[10]) : 0;
	if (!ifindex || !parse_mac(argv[2], dmac) || inet_pton(AF_INET, argv[3], &src) != 1 ||
	    inet_pton(AF_INET, argv[4], &dst) != 1 || flows < 1 || flows > MAX_FLOWS ||
	    rate < 0 || seconds <= 0 || probe_rate < 0) {
		fprintf(stderr, "udpgen: bad arguments (an interface, a MAC, two IPv4 addresses, "
			"1 <= FLOWS <= %d)\n", MAX_FLOWS);
		return 2;
	}
	char path[64];                                  // the interface's own MAC
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", argv[1]);
	FILE *f = fopen(path, "r");
	char text[32] = "";
	if (!f || !fgets(text, sizeof(text), f) || !parse_mac(text, smac)) {
		fprintf(stderr, "udpgen: cannot read %s\n", path);
		return 1;
	}
	fclose(f);
	// The virtio-net header (no offloads) only says "copy the first 60 bytes": the skb
	// is then linear, as a raw socket's was, rather than pointing into the ring's
	// pages (what devices and sinks would otherwise have to pull from).
	int sock = socket(AF_PACKET, SOCK_RAW, 0);      // protocol 0: transmit only
	// A frame is charged to the socket until the device (or the sink) frees it: the
	// send buffer must hold more frames than every queue on the path, or the
	// generator would wait for the device instead of overloading it.
	int v2 = TPACKET_V2, one = 1, sndbuf = 64 << 20;
	struct tpacket_req req = { .tp_block_size = BLOCK, .tp_block_nr = SLOTS * SLOT / BLOCK,
				   .tp_frame_size = SLOT, .tp_frame_nr = SLOTS };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				  .sll_protocol = htons(ETH_P_IP) };
	if (sock < 0 || setsockopt(sock, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) < 0 ||
	    setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 ||
	    setsockopt(sock, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(sock, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0 ||
	    bind(sock, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror("udpgen: packet socket");
		return 1;
	}
	ring = mmap(NULL, (size_t)SLOTS * SLOT, PROT_READ | PROT_WRITE, MAP_SHARED, sock, 0);
	if (ring == MAP_FAILED) {
		perror("udpgen: mmap");
		return 1;
	}
	static uint8_t frame[TX_LEN], probe[TX_LEN];    // vnet header + Ethernet frame
	struct virtio_net_hdr vnet = { .hdr_len = FRAME_LEN };
	memcpy(frame, &vnet, VNET);
	memcpy(probe, &vnet, VNET);
	fill(frame + VNET, dmac, smac, src, dst, dport);
	fill(probe + VNET, dmac, smac, src, dst, probe_port);
	uint8_t *sport = frame + VNET + 34;
	probe[VNET + 34] = PROBE_SPORT >> 8; probe[VNET + 35] = PROBE_SPORT & 0xff;

	// head: next slot to fill; tail: oldest slot handed to the kernel and not done
	long head = 0, tail = 0, due_sent = 0, done = 0, refused = 0, flow = 0, probes = 0;
	int64_t start = now_ns(CLOCK_MONOTONIC), end = start + (int64_t)(seconds * 1e9);
	for (int64_t t = start;; t = now_ns(CLOCK_MONOTONIC)) {
		reap(&tail, head, &done);
		if (t >= end)
			break;
		double elapsed = (t - start) / 1e9;
		long room = SLOTS - (head - tail);
		int probe_now = probe_rate > 0 && probes < (long)(elapsed * probe_rate) + 1 &&
				room > 0;
		long n = (long)(elapsed * rate) - due_sent;
		n = n < BATCH ? n : BATCH;
		n = n < room - probe_now ? n : room - probe_now;
		if (n <= 0 && !probe_now) {
			if (room == 0 && (long)(elapsed * rate) > due_sent)
				flush(sock, &refused, &due_sent);   // full: frames left unsent?
			continue;               // busy pacing: this core is the generator's
		}
		for (long i = 0; i < n; i++, head++) {  // next source ports, round robin
			sport[0] = (FIRST_PORT + flow) >> 8;
			sport[1] = (FIRST_PORT + flow) & 0xff;
			flow = flow + 1 == flows ? 0 : flow + 1;
			memcpy((uint8_t *)slot(head) + DATA, frame, TX_LEN);
			slot(head)->tp_len = TX_LEN;
			__atomic_store_n(status(head), TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		}
		due_sent += n > 0 ? n : 0;
		if (probe_now) {
			uint8_t *p = (uint8_t *)slot(head) + DATA;
			memcpy(p, probe, TX_LEN);
			int64_t stamp = now_ns(CLOCK_REALTIME);
			memcpy(p + VNET + 42, &stamp, 8);
			memcpy(p + VNET + 50, &probes, 8);
			slot(head)->tp_len = TX_LEN;
			__atomic_store_n(status(head), TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			head++;
			probes++;
		}
		flush(sock, &refused, &due_sent);
	}
	// What is still in the ring was due: hand it over and wait (<= 0.5 s) until the
	// kernel is done with it.  A frame the kernel took but a device still holds counts
	// as offered too; one never handed over does not.
	for (int i = 0; i < 3 && tail < head; i++)
		flush(sock, &refused, &due_sent);
	while (tail < head && now_ns(CLOCK_MONOTONIC) < end + 500000000LL)
		reap(&tail, head, &done);
	for (long i = tail; i < head; i++)
		done += *status(i) != TP_STATUS_SEND_REQUEST;
	printf("%ld %ld %ld\n", done - probes + refused, probes, refused);
	return 0;
}
