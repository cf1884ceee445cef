// The UDP load generator of the live benchmark (vernat/bench/): 60-byte IPv4/UDP
// frames (64 on the wire with the FCS) from SRC_IP, source ports 1024.. (one per flow,
// round robin), to DST_IP:DST_PORT, paced at RATE frames/s for SECONDS, sent in
// batches with sendmmsg() on one raw socket (IP_HDRINCL: the kernel fills in the IPv4
// checksum; the UDP checksum is 0, "none").  With PROBE_PORT and PROBE_RATE, it also
// sends PROBE_RATE latency probes per second from source port 1000 to PROBE_PORT, each
// carrying the CLOCK_REALTIME time (ns) read just before its own sendto() and a
// sequence number; the probe sink (probesink.c) subtracts it from the kernel's receive
// time stamp (CLOCK_REALTIME too: one clock, one machine).
// Prints "OFFERED PROBES": frames the kernel accepted, probes sent.  A frame a full
// veth queue refuses still counts as offered (it shows up as the sender's tx_dropped,
// i.e. as loss).  (Lab notes: trafgen was unreliable here; a small sender was not.)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define FRAME_L3 46      /* 20 IPv4 + 8 UDP + 18 payload = 60-byte Ethernet frame */
#define FIRST_PORT 1024
#define MAX_FLOWS (65536 - FIRST_PORT)
#define PROBE_SPORT 1000

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fill(uint8_t *p, uint32_t src, uint32_t dst, int dport)
{
	memset(p, 0, FRAME_L3);
	p[0] = 0x45; p[3] = FRAME_L3; p[8] = 64; p[9] = IPPROTO_UDP;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	p[22] = dport >> 8; p[23] = dport & 0xff; p[25] = 8 + 18;
	memcpy(p + 28, "vernat-bench-frame", 18);
}

int main(int argc, char **argv)
{
	if (argc != 7 && argc != 9) {
		fprintf(stderr, "usage: udpgen SRC_IP DST_IP DST_PORT FLOWS RATE SECONDS "
			"[PROBE_PORT PROBE_RATE]\n");
		return 2;
	}
	uint32_t src, dst_ip;
	inet_pton(AF_INET, argv[1], &src);
	inet_pton(AF_INET, argv[2], &dst_ip);
	int dport = atoi(argv[3]), flows = atoi(argv[4]);
	double rate = atof(argv[5]), seconds = atof(argv[6]);
	int probe_port = argc == 9 ? atoi(argv[7]) : 0;
	double probe_rate = argc == 9 ? atof(argv[8]) : 0;
	if (flows < 1 || flows > MAX_FLOWS || rate < 0 || seconds <= 0 || probe_rate < 0) {
		fprintf(stderr, "udpgen: bad arguments (1 <= FLOWS <= %d)\n", MAX_FLOWS);
		return 2;
	}
	int sock = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);     // IPPROTO_RAW implies IP_HDRINCL
	if (sock < 0) {
		perror("udpgen: socket");
		return 1;
	}
	int big = 4 << 20;
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = dst_ip };
	static uint8_t frames[BATCH][FRAME_L3], probe[FRAME_L3];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		fill(frames[i], src, dst_ip, dport);
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME_L3;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}
	fill(probe, src, dst_ip, probe_port);
	probe[20] = PROBE_SPORT >> 8; probe[21] = PROBE_SPORT & 0xff;

	long due_sent = 0, offered = 0, flow = 0, probes = 0;
	int64_t start = now_ns(CLOCK_MONOTONIC), end = start + (int64_t)(seconds * 1e9);
	for (int64_t t = start; t < end; t = now_ns(CLOCK_MONOTONIC)) {
		double elapsed = (t - start) / 1e9;
		if (probe_rate > 0 && probes < (long)(elapsed * probe_rate) + 1) {
			int64_t stamp = now_ns(CLOCK_REALTIME);
			memcpy(probe + 28, &stamp, 8);
			memcpy(probe + 36, &probes, 8);
			if (sendto(sock, probe, FRAME_L3, MSG_DONTWAIT, (struct sockaddr *)&dst,
				   sizeof(dst)) == FRAME_L3)
				probes++;
			continue;
		}
		long due = (long)(elapsed * rate);
		if (due_sent >= due)
			continue;          // busy pacing: this core is the generator's
		int n = due - due_sent < BATCH ? due - due_sent : BATCH;
		for (int i = 0; i < n; i++) {      // next source ports, round robin over the flows
			int port = FIRST_PORT + flow;
			frames[i][20] = port >> 8;
			frames[i][21] = port & 0xff;
			flow = flow + 1 == flows ? 0 : flow + 1;
		}
		int sent = sendmmsg(sock, msgs, n, MSG_DONTWAIT);
		due_sent += n;     // paced on what was due, whatever the kernel took
		if (sent > 0)
			offered += sent;
	}
	printf("%ld %ld\n", offered, probes);
	return 0;
}
