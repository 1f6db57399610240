/*
 * A FastCGI authorizer written with libfcgi, the reference the interoperability tests hold the library to:
 * "Bearer letmein" is alice (200, Variable-AUTH_USER), anyone else gets 403 text/plain "forbidden\n".
 * The first argument picks how the denial is written:
 *   one-record   Status, then Content-Type, and the body in the same FCGI_STDOUT record (libfcgi's usual output)
 *   type-first   Content-Type before Status, one record
 *   split-body   Status first, but the body in a second FCGI_STDOUT record
 * It serves the listening socket on fd 0 (spawn-fcgi, lighttpd bin-path).
 */
#include <fcgiapp.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *variant = argc > 1 ? argv[1] : "one-record";
    FCGX_Request request;
    FCGX_Init();
    FCGX_InitRequest(&request, 0, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        const char *authorization = FCGX_GetParam("HTTP_AUTHORIZATION", request.envp);
        if (authorization != NULL && strcmp(authorization, "Bearer letmein") == 0) {
            FCGX_PutS("Status: 200 OK\r\nVariable-AUTH_USER: alice\r\n\r\n", request.out);
        } else if (strcmp(variant, "type-first") == 0) {
            FCGX_PutS("Content-Type: text/plain\r\nStatus: 403 Forbidden\r\n\r\nforbidden\n", request.out);
        } else {
            FCGX_PutS("Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n", request.out);
            if (strcmp(variant, "split-body") == 0) {
                /* libfcgi sends what its buffer holds as one record on a flush. */
                FCGX_FFlush(request.out);
            }
            FCGX_PutS("forbidden\n", request.out);
        }
        FCGX_Finish_r(&request);
    }
    return 0;
}
