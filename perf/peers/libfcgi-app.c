/*
 * The libfcgi peer: hello, big and upload as in the echo sample, served by THREADS threads that each run the
 * FCGX_Accept_r loop on one listening socket (libfcgi's threaded pattern). A thread keeps the connection it
 * accepted for as long as the web server sets FCGI_KEEP_CONN, so at most THREADS connections are served at once.
 */
#include <fcgiapp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int listen_fd;
static char pattern[65536];

static void big(FCGX_Request *r)
{
	const char *q = FCGX_GetParam("QUERY_STRING", r->envp);
	long long bytes = q && strncmp(q, "bytes=", 6) == 0 ? atoll(q + 6) : 0;
	FCGX_PutS("Content-Type: application/octet-stream\r\n\r\n", r->out);
	while (bytes > 0) {
		int n = bytes < (long long)sizeof pattern ? (int)bytes : (int)sizeof pattern;
		if (FCGX_PutStr(pattern, n, r->out) < 0)
			return;
		bytes -= n;
	}
}

/* Reads the body as a stream and hashes it, as the echo sample's upload does. */
static void upload(FCGX_Request *r)
{
	static __thread char buf[65536];
	unsigned char digest[32];
	unsigned int dlen = 0;
	long long total = 0;
	int n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = FCGX_GetStr(buf, sizeof buf, r->in)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += n;
	}
	EVP_DigestFinal_ex(ctx, digest, &dlen);
	EVP_MD_CTX_free(ctx);
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	FCGX_FPrintF(r->out, "Content-Type: application/json\r\n\r\n{\"length\": %lld, \"sha256\": \"%s\"}", total, hex);
}

static void *serve(void *unused)
{
	FCGX_Request r;
	(void)unused;
	FCGX_InitRequest(&r, listen_fd, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		const char *uri = FCGX_GetParam("REQUEST_URI", r.envp);
		if (uri && strncmp(uri, "/big", 4) == 0)
			big(&r);
		else if (uri && strncmp(uri, "/upload", 7) == 0)
			upload(&r);
		else
			FCGX_PutS("Content-Type: text/plain\r\n\r\nHello, world!\n", r.out);
		FCGX_Finish_r(&r);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: libfcgi-app :PORT THREADS\n");
		return 2;
	}
	int threads = atoi(argv[2]);
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = "0123456789abcdef"[i % 16];
	FCGX_Init();
	listen_fd = FCGX_OpenSocket(argv[1], 128);
	if (listen_fd < 0) {
		perror("FCGX_OpenSocket");
		return 1;
	}
	pthread_t tid[64];
	for (int i = 1; i < threads && i < 64; i++)
		pthread_create(&tid[i], NULL, serve, NULL);
	serve(NULL);
	return 0;
}
