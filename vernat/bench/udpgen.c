// A UDP load generator for the live benchmark (vernat/bench/loss_free.py): 60-byte
// IPv4/UDP frames from SRC_IP, source ports 10000.. (one per flow), to DST_IP:DST_PORT,
// paced at RATE frames/s for SECONDS, sent in batches with sendmmsg() on one raw socket
// (IP_HDRINCL: the kernel fills in the IPv4 checksum; the UDP checksum is 0, "none").
// Prints the number of frames offered.  (Lab notes: trafgen was unreliable here; a
// small sender of our own was not.)
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

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: udpgen SRC_IP DST_IP DST_PORT FLOWS RATE SECONDS\n");
		return 2;
	}
	uint32_t src, dst_ip;
	inet_pton(AF_INET, argv[1], &src);
	inet_pton(AF_INET, argv[2], &dst_ip);
	int dport = atoi(argv[3]), flows = atoi(argv[4]);
	double rate = atof(argv[5]), seconds = atof(argv[6]);
	int sock = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);     // IPPROTO_RAW implies IP_HDRINCL
	if (sock < 0 || flows < 1 || flows > 55000) {
		perror("udpgen");
		return 1;
	}
	int big = 4 << 20;
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = dst_ip };
	static uint8_t frames[BATCH][FRAME_L3];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		uint8_t *p = frames[i];
		p[0] = 0x45; p[2] = 0; p[3] = FRAME_L3; p[8] = 64; p[9] = IPPROTO_UDP;
		memcpy(p + 12, &src, 4);
		memcpy(p + 16, &dst_ip, 4);
		p[22] = dport >> 8; p[23] = dport & 0xff; p[25] = 8 + 18;
		memcpy(p + 28, "vernat-bench-frame", 18);
		iov[i].iov_base = p;
		iov[i].iov_len = FRAME_L3;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}
	long sent = 0, flow = 0;
	double start = now(), end = start + seconds;
	for (double t = start; t < end; t = now()) {
		long due = (long)((t - start) * rate);
		if (sent >= due)
			continue;          // busy pacing: this core is the generator's
		int n = due - sent < BATCH ? due - sent : BATCH;
		for (int i = 0; i < n; i++) {      // next source ports, round robin over the flows
			int port = 10000 + flow;
			frames[i][20] = port >> 8;
			frames[i][21] = port & 0xff;
			flow = (flow + 1) % flows;
		}
		sendmmsg(sock, msgs, n, MSG_DONTWAIT);
		sent += n;         // offered; what the kernel refused is lost, as it should count
	}
	printf("%ld\n", sent);
	return 0;
}
