// The latency probes' receiver (vernat/bench/): a UDP socket on PORT with SO_TIMESTAMPNS,
// so each probe carries the kernel's receive time stamp (CLOCK_REALTIME, taken when the
// frame entered this namespace's network stack, i.e. when the device under test sent
// it): this process's own scheduling delays do not count.  Prints one line per probe,
// "SEQUENCE LATENCY_NS" (receive stamp minus the generator's send stamp, udpgen.c),
// for SECONDS seconds.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: probesink PORT SECONDS\n");
		return 2;
	}
	int sock = socket(AF_INET, SOCK_DGRAM, 0), on = 1, big = 8 << 20;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0 ||
	    bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("probesink");
		return 1;
	}
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct timeval tick = { .tv_sec = 0, .tv_usec = 100000 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
	printf("ready\n");
	fflush(stdout);
	struct timespec start, t;
	clock_gettime(CLOCK_MONOTONIC, &start);
	double seconds = atof(argv[2]);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - start.tv_sec) + (t.tv_nsec - start.tv_nsec) / 1e9 > seconds)
			break;
		uint8_t data[64];
		char control[256];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = control, .msg_controllen = sizeof(control) };
		ssize_t n = recvmsg(sock, &msg, 0);
		if (n < 16)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec rx;
				int64_t sent, seq;
				memcpy(&rx, CMSG_DATA(c), sizeof(rx));
				memcpy(&sent, data, 8);
				memcpy(&seq, data + 8, 8);
				printf("%lld %lld\n", (long long)seq,
				       (long long)((int64_t)rx.tv_sec * 1000000000 + rx.tv_nsec - sent));
			}
		}
	}
	return 0;
}
