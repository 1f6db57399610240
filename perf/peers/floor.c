/*
 * The floor: the least work a FastCGI hello server can do. One epoll thread frames records and, when a request's
 * STDIN ends, writes a pre-encoded answer (STDOUT, empty STDOUT, END_REQUEST) with the request id patched in. It
 * neither parses PARAMS nor keeps per-request state, so its CPU per request is mostly the kernel's socket cost.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RX 65536

struct conn {
	unsigned char rx[RX];
	size_t len;
};

static const char body[] = "Content-Type: text/plain\r\n\r\nHello, world!\n";
static unsigned char answer[256];
static size_t answer_len;

static size_t record(unsigned char *out, int type, const void *content, size_t len)
{
	size_t pad = (8 - len % 8) % 8;
	unsigned char h[8] = { 1, (unsigned char)type, 0, 0, (unsigned char)(len >> 8), (unsigned char)len,
			       (unsigned char)pad, 0 };
	memcpy(out, h, 8);
	memcpy(out + 8, content, len);
	memset(out + 8 + len, 0, pad);
	return 8 + len + pad;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 9101;
	unsigned char end[8] = { 0 };
	answer_len = record(answer, 6, body, sizeof body - 1);
	answer_len += record(answer + answer_len, 6, NULL, 0);
	answer_len += record(answer + answer_len, 3, end, 8);

	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(lfd, 128) < 0) {
		perror("listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	struct epoll_event events[64];
	static unsigned char out[65536];
	for (;;) {
		int n = epoll_wait(ep, events, 64, -1);
		for (int e = 0; e < n; e++) {
			if (events[e].data.ptr == NULL) {
				int fd = accept(lfd, NULL, NULL);
				if (fd < 0)
					continue;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				struct conn *c = calloc(1, sizeof *c);
				/* The fd rides in the last bytes of the event data alongside the buffer pointer. */
				struct epoll_event cev = { .events = EPOLLIN, .data.u64 = ((unsigned long long)fd << 48) | (unsigned long long)(uintptr_t)c };
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				continue;
			}
			int fd = (int)(events[e].data.u64 >> 48);
			struct conn *c = (struct conn *)(uintptr_t)(events[e].data.u64 & 0xFFFFFFFFFFFFULL);
			ssize_t r = read(fd, c->rx + c->len, RX - c->len);
			if (r <= 0) {
				close(fd);
				free(c);
				continue;
			}
			c->len += (size_t)r;
			size_t at = 0, out_len = 0;
			while (c->len - at >= 8) {
				unsigned char *h = c->rx + at;
				size_t clen = (size_t)((h[4] << 8) | h[5]), total = 8 + clen + h[6];
				if (c->len - at < total)
					break;
				if (h[1] == 5 && clen == 0 && out_len + answer_len <= sizeof out) {
					memcpy(out + out_len, answer, answer_len);
					for (size_t i = 0; i < answer_len;) {
						unsigned char *rh = out + out_len + i;
						rh[2] = h[2];
						rh[3] = h[3];
						i += 8 + (size_t)((rh[4] << 8) | rh[5]) + rh[6];
					}
					out_len += answer_len;
				}
				at += total;
			}
			memmove(c->rx, c->rx + at, c->len - at);
			c->len -= at;
			for (size_t off = 0; off < out_len;) {
				ssize_t w = write(fd, out + off, out_len - off);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					break;
				}
				off += (size_t)w;
			}
		}
	}
}
