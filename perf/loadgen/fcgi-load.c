/*
 * fcgi-load: a FastCGI load generator that speaks raw records, as nginx does.
 *
 * hello mode (default): N kept connections, M requests in flight on each (distinct request ids 1..M), every
 * request a BEGIN_REQUEST with FCGI_KEEP_CONN, the nginx-like PARAMS block, an empty PARAMS and an empty STDIN.
 * One epoll thread; each answer (END_REQUEST) is timed and immediately followed by the next request on the same id.
 * After the warm-up it samples the CPU time (utime+stime) of the server processes given with -P, runs for -d
 * seconds, samples again, and prints one machine-readable RESULT line.
 *
 * big / upload modes: one connection, one request that moves -b bytes (the response body, or the request body as
 * STDIN records); prints the time taken.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_INFLIGHT 64
#define HIST_US 200000 /* latencies are bucketed per microsecond up to 200 ms; longer ones land in the last bucket */
#define RX_SIZE 65536

enum { BEGIN = 1, END_REQUEST = 3, PARAMS = 4, STDIN = 5, STDOUT = 6, STDERR = 7 };

struct conn {
	int fd;
	unsigned char rx[RX_SIZE];
	size_t rx_len;
	unsigned char *tx;
	size_t tx_len, tx_cap, tx_off;
	double sent_at[MAX_INFLIGHT + 1];
	int busy[MAX_INFLIGHT + 1];
	long served;
	int closed;
};

static struct conn conns[MAX_CONNS];
static uint32_t hist[HIST_US + 1];
static long measured, errors, outstanding;
static int measuring;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Appends one record header + content + padding to out (which must have room). */
static size_t put_record(unsigned char *out, int type, int id, const unsigned char *content, size_t len)
{
	size_t pad = (8 - len % 8) % 8;
	out[0] = 1;
	out[1] = (unsigned char)type;
	out[2] = (unsigned char)(id >> 8);
	out[3] = (unsigned char)id;
	out[4] = (unsigned char)(len >> 8);
	out[5] = (unsigned char)len;
	out[6] = (unsigned char)pad;
	out[7] = 0;
	if (len)
		memcpy(out + 8, content, len);
	memset(out + 8 + len, 0, pad);
	return 8 + len + pad;
}

static size_t put_pair(unsigned char *out, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value), at = 0;
	/* Every name and value here is under 128 bytes: one-byte lengths. */
	out[at++] = (unsigned char)n;
	out[at++] = (unsigned char)v;
	memcpy(out + at, name, n);
	at += n;
	memcpy(out + at, value, v);
	return at + v;
}

/* The PARAMS nginx sends with the stock fastcgi_params for a GET of uri from a browser. */
static size_t build_params(unsigned char *out, const char *uri, const char *query, const char *script,
			   const char *method, const char *content_length)
{
	size_t at = 0;
	at += put_pair(out + at, "QUERY_STRING", query);
	at += put_pair(out + at, "REQUEST_METHOD", method);
	at += put_pair(out + at, "CONTENT_TYPE", "");
	at += put_pair(out + at, "CONTENT_LENGTH", content_length);
	at += put_pair(out + at, "SCRIPT_NAME", "/hello");
	at += put_pair(out + at, "REQUEST_URI", uri);
	at += put_pair(out + at, "DOCUMENT_URI", "/hello");
	at += put_pair(out + at, "DOCUMENT_ROOT", "/var/www/html");
	at += put_pair(out + at, "SERVER_PROTOCOL", "HTTP/1.1");
	at += put_pair(out + at, "REQUEST_SCHEME", "http");
	at += put_pair(out + at, "GATEWAY_INTERFACE", "CGI/1.1");
	at += put_pair(out + at, "SERVER_SOFTWARE", "nginx/1.22.1");
	at += put_pair(out + at, "REMOTE_ADDR", "127.0.0.1");
	at += put_pair(out + at, "REMOTE_PORT", "52814");
	at += put_pair(out + at, "SERVER_ADDR", "127.0.0.1");
	at += put_pair(out + at, "SERVER_PORT", "8080");
	at += put_pair(out + at, "SERVER_NAME", "localhost");
	at += put_pair(out + at, "REDIRECT_STATUS", "200");
	at += put_pair(out + at, "SCRIPT_FILENAME", script);
	at += put_pair(out + at, "HTTP_HOST", "localhost:8080");
	at += put_pair(out + at, "HTTP_USER_AGENT",
		       "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
	at += put_pair(out + at, "HTTP_ACCEPT",
		       "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
	at += put_pair(out + at, "HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.7,fr;q=0.3");
	at += put_pair(out + at, "HTTP_ACCEPT_ENCODING", "gzip, deflate, br, zstd");
	at += put_pair(out + at, "HTTP_CONNECTION", "keep-alive");
	return at;
}

/* BEGIN (keep-conn) + PARAMS + empty PARAMS [+ empty STDIN]. */
static size_t build_request(unsigned char *out, int id, const unsigned char *params, size_t plen, int end_stdin)
{
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	size_t at = 0;
	at += put_record(out + at, BEGIN, id, begin, 8);
	at += put_record(out + at, PARAMS, id, params, plen);
	at += put_record(out + at, PARAMS, id, NULL, 0);
	if (end_stdin)
		at += put_record(out + at, STDIN, id, NULL, 0);
	return at;
}

static int dial(const char *address)
{
	int fd;
	if (strncmp(address, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", address + 5);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
			die("connect");
		return fd;
	}
	char host[64];
	snprintf(host, sizeof host, "%s", address);
	char *colon = strrchr(host, ':');
	if (!colon) {
		fprintf(stderr, "address must be HOST:PORT or unix:PATH\n");
		exit(2);
	}
	*colon = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address %s\n", host);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("connect");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Sum of utime+stime (clock ticks) over the given process ids: each /proc/PID/stat covers all its threads. */
static long long cpu_ticks(const char *pids)
{
	long long total = 0;
	char list[1024];
	snprintf(list, sizeof list, "%s", pids);
	for (char *save = NULL, *pid = strtok_r(list, ",", &save); pid; pid = strtok_r(NULL, ",", &save)) {
		char path[64], buf[2048];
		snprintf(path, sizeof path, "/proc/%s/stat", pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		/* The command name may hold spaces: fields are counted from the last ')'. Field 14 is utime, 15 stime. */
		char *p = strrchr(buf, ')');
		if (!p)
			continue;
		unsigned long long utime = 0, stime = 0;
		if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) == 2)
			total += (long long)(utime + stime);
	}
	return total;
}

static void queue(struct conn *c, const unsigned char *data, size_t len)
{
	if (c->tx_len + len > c->tx_cap) {
		c->tx_cap = (c->tx_len + len) * 2;
		c->tx = realloc(c->tx, c->tx_cap);
		if (!c->tx)
			die("realloc");
	}
	memcpy(c->tx + c->tx_len, data, len);
	c->tx_len += len;
}

static void flush_tx(struct conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = write(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			c->closed = 1;
			errors++;
			return;
		}
		c->tx_off += (size_t)n;
	}
	c->tx_off = c->tx_len = 0;
}

static double percentile(double p)
{
	long target = (long)(measured * p), seen = 0;
	for (int i = 0; i <= HIST_US; i++) {
		seen += hist[i];
		if (seen > target)
			return i;
	}
	return HIST_US;
}

static int hello(const char *address, int nconn, int inflight, double warmup, double duration, const char *pids,
		 const char *script, const char *label)
{
	static unsigned char params[4096];
	static unsigned char requests[MAX_INFLIGHT + 1][8192];
	static size_t request_len[MAX_INFLIGHT + 1];
	size_t plen = build_params(params, "/hello", "", script, "GET", "");
	for (int id = 1; id <= inflight; id++)
		request_len[id] = build_request(requests[id], id, params, plen, 1);

	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	double start = now();
	for (int i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];
		c->fd = dial(address);
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
		for (int id = 1; id <= inflight; id++) {
			queue(c, requests[id], request_len[id]);
			c->sent_at[id] = start;
			c->busy[id] = 1;
			outstanding++;
		}
		flush_tx(c);
	}

	double measure_from = start + warmup, stop_at = measure_from + duration, hard_stop = stop_at + 2.0;
	long long ticks_start = 0, ticks_end = 0;
	double measured_from = 0, measured_to = 0;
	struct epoll_event events[MAX_CONNS];
	for (;;) {
		double t = now();
		if (!measuring && measured_from == 0 && t >= measure_from) {
			measuring = 1;
			measured_from = t;
			ticks_start = cpu_ticks(pids);
			memset(hist, 0, sizeof hist);
			measured = 0;
			for (int i = 0; i < nconn; i++)
				conns[i].served = 0;
		}
		if (measuring && t >= stop_at) {
			measuring = 0;
			measured_to = t;
			ticks_end = cpu_ticks(pids);
		}
		/* After the window no new request is sent; the loop ends when every answer is in, or at the hard stop. */
		if (measured_to != 0 && (outstanding == 0 || t >= hard_stop))
			break;
		int n = epoll_wait(ep, events, MAX_CONNS, 10);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int e = 0; e < n; e++) {
			struct conn *c = &conns[events[e].data.u32];
			if (c->closed)
				continue;
			ssize_t r = read(c->fd, c->rx + c->rx_len, RX_SIZE - c->rx_len);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				c->closed = 1;
				errors++;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				continue;
			}
			c->rx_len += (size_t)r;
			size_t at = 0;
			double tnow = now();
			while (c->rx_len - at >= 8) {
				unsigned char *h = c->rx + at;
				size_t total = 8 + (size_t)((h[4] << 8) | h[5]) + h[6];
				if (c->rx_len - at < total)
					break;
				int id = (h[2] << 8) | h[3];
				if (h[0] != 1) {
					fprintf(stderr, "bad record version from server\n");
					exit(2);
				}
				if (h[1] == END_REQUEST && id >= 1 && id <= inflight && c->busy[id]) {
					double us = (tnow - c->sent_at[id]) * 1e6;
					outstanding--;
					c->busy[id] = 0;
					if (measuring) {
						hist[us > HIST_US ? HIST_US : (int)us]++;
						measured++;
						c->served++;
					}
					if (measured_to == 0) {
						queue(c, requests[id], request_len[id]);
						c->sent_at[id] = tnow;
						c->busy[id] = 1;
						outstanding++;
					}
				}
				at += total;
			}
			memmove(c->rx, c->rx + at, c->rx_len - at);
			c->rx_len -= at;
			flush_tx(c);
		}
	}

	double secs = measured_to - measured_from;
	long long ticks = ticks_end - ticks_start;
	double cpu_us = ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
	int served = 0;
	long min_c = -1, max_c = 0;
	for (int i = 0; i < nconn; i++) {
		if (conns[i].served > 0)
			served++;
		if (min_c < 0 || conns[i].served < min_c)
			min_c = conns[i].served;
		if (conns[i].served > max_c)
			max_c = conns[i].served;
	}
	printf("RESULT peer=%s conns=%d inflight=%d secs=%.2f requests=%ld rps=%.0f cpu_us_per_req=%.2f "
	       "p50_us=%.0f p99_us=%.0f served=%d min_per_conn=%ld max_per_conn=%ld errors=%ld params_bytes=%zu\n",
	       label, nconn, inflight, secs, measured, measured / secs, measured ? cpu_us / measured : 0.0,
	       percentile(0.50), percentile(0.99), served, min_c, max_c, errors, plen);
	return 0;
}

static void write_all(int fd, const unsigned char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		data += n;
		len -= (size_t)n;
	}
}

/* Reads records until END_REQUEST for id 1; returns the STDOUT content bytes seen. */
static long long read_response(int fd, long long *stdout_bytes)
{
	static unsigned char buf[1 << 20];
	size_t len = 0;
	*stdout_bytes = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - len);
		if (n <= 0)
			die("read");
		len += (size_t)n;
		size_t at = 0;
		while (len - at >= 8) {
			unsigned char *h = buf + at;
			size_t clen = (size_t)((h[4] << 8) | h[5]), total = 8 + clen + h[6];
			if (len - at < total)
				break;
			if (h[1] == STDOUT)
				*stdout_bytes += (long long)clen;
			if (h[1] == END_REQUEST)
				return 0;
			at += total;
		}
		memmove(buf, buf + at, len - at);
		len -= at;
	}
}

static int bulk(const char *address, const char *mode, long long bytes, const char *script, const char *label)
{
	static unsigned char params[4096], request[8192], chunk[8 + 65528];
	char uri[128], query[64], length[32] = "";
	int upload = strcmp(mode, "upload") == 0;
	snprintf(query, sizeof query, upload ? "" : "bytes=%lld", bytes);
	snprintf(uri, sizeof uri, upload ? "/upload" : "/big?bytes=%lld", bytes);
	if (upload)
		snprintf(length, sizeof length, "%lld", bytes);
	size_t plen = build_params(params, uri, query, script, upload ? "POST" : "GET", length);
	size_t rlen = build_request(request, 1, params, plen, !upload);

	int fd = dial(address);
	double t0 = now();
	write_all(fd, request, rlen);
	long long body = 0;
	if (upload) {
		/* 65528 = the largest multiple of 8 under 65536: records without padding, as nginx sends them. */
		unsigned char data[65528];
		for (size_t i = 0; i < sizeof data; i++)
			data[i] = "0123456789abcdef"[i % 16];
		for (long long left = bytes; left > 0;) {
			size_t n = left < (long long)sizeof data ? (size_t)left : sizeof data;
			size_t rec = put_record(chunk, STDIN, 1, data, n);
			write_all(fd, chunk, rec);
			left -= (long long)n;
		}
		size_t rec = put_record(chunk, STDIN, 1, NULL, 0);
		write_all(fd, chunk, rec);
	}
	read_response(fd, &body);
	double secs = now() - t0;
	printf("RESULT peer=%s mode=%s bytes=%lld secs=%.3f mb_per_s=%.0f stdout_bytes=%lld\n", label, mode, bytes, secs,
	       bytes / secs / 1e6, body);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *address = "127.0.0.1:9000", *pids = "", *script = "/var/www/html/hello", *label = "server";
	const char *mode = "hello";
	int nconn = 16, inflight = 1, opt;
	double warmup = 1.0, duration = 10.0;
	long long bytes = 1LL << 30;
	while ((opt = getopt(argc, argv, "a:c:m:w:d:P:s:l:M:b:")) != -1) {
		switch (opt) {
		case 'a': address = optarg; break;
		case 'c': nconn = atoi(optarg); break;
		case 'm': inflight = atoi(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'P': pids = optarg; break;
		case 's': script = optarg; break;
		case 'l': label = optarg; break;
		case 'M': mode = optarg; break;
		case 'b': bytes = atoll(optarg); break;
		default:
			fprintf(stderr,
				"usage: fcgi-load [-a ADDR] [-c CONNS] [-m INFLIGHT] [-w WARMUP_S] [-d SECONDS] [-P PID,PID]"
				" [-s SCRIPT_FILENAME] [-l LABEL] [-M hello|big|upload] [-b BYTES]\n");
			return 2;
		}
	}
	if (nconn < 1 || nconn > MAX_CONNS || inflight < 1 || inflight > MAX_INFLIGHT || duration <= 0 ||
	    duration > 600) {
		fprintf(stderr, "conns 1..%d, in flight 1..%d, duration 0..600 s\n", MAX_CONNS, MAX_INFLIGHT);
		return 2;
	}
	if (strcmp(mode, "hello") == 0)
		return hello(address, nconn, inflight, warmup, duration, pids, script, label);
	return bulk(address, mode, bytes, script, label);
}
