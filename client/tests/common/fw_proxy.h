/*
 * fw_proxy.h — a TCP proxy for the integration tests that forwards between
 * the client and the throw-away cluster one byte per read and per write in
 * each direction, with a short pause after each byte, so that every message
 * (and every TLS record) reaches the other side in pieces: the client's
 * non-blocking state machines see partial reads in every state.
 *
 * One thread runs a poll(2) loop over the listening socket and every
 * client/server pair.  Its listening socket has a small receive buffer, so
 * a client sending a large message fills its own send buffer too.
 */
#ifndef FW_PROXY_H
#define FW_PROXY_H

typedef struct fwt_proxy fwt_proxy;

/* Listens on 127.0.0.1 (an ephemeral port) and forwards every connection
 * to host:port.  delay_us: the pause after each forwarded byte (0: a
 * sched_yield).  NULL when it cannot start. */
fwt_proxy *fwt_proxy_start(const char *host, const char *port, int delay_us);
int fwt_proxy_port(const fwt_proxy *p);
/* Closes every forwarded connection now (the "server" goes away); the
 * proxy keeps accepting new ones. */
void fwt_proxy_cut(fwt_proxy *p);
/* Bytes forwarded server->client and client->server so far. */
long fwt_proxy_bytes_down(fwt_proxy *p);
long fwt_proxy_bytes_up(fwt_proxy *p);
/* Connections accepted so far (a CancelRequest is one too). */
int fwt_proxy_connections(fwt_proxy *p);
/* Stops the thread, closes everything, frees p.  NULL is fine. */
void fwt_proxy_stop(fwt_proxy *p);

#endif /* FW_PROXY_H */
