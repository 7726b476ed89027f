// tcp_nodelay_shim.c — a diagnostic for bench/agent/agent_bench.py --nodelay-shim, never part of
// CFM: an LD_PRELOAD library that sets TCP_NODELAY on every TCP socket a process connects or
// accepts. Paho C (Debian's 1.3.12, net/mqtt's client) never calls setsockopt and mosquitto
// leaves Nagle's algorithm on unless a listener says `set_tcp_nodelay true`, so an MQTT QoS 1 exchange (PUBACK,
// then the next small PUBLISH on the same socket) waits for the peer's delayed ACK (~40 ms).
// With this preloaded into cfmc local up's processes (cloud, broker, cfmd, agents) the benchmark
// shows what the round trip would be with TCP_NODELAY on both ends.
// Built by agent_bench.py: gcc -O2 -shared -fPIC -o tcp_nodelay_shim.so tcp_nodelay_shim.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
  int one = 1, type = 0;
  socklen_t tl = sizeof type;
  if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); // fails harmlessly on AF_UNIX
}

int connect(int fd, const struct sockaddr *a, socklen_t l) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (!real) real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  if (a && (a->sa_family == AF_INET || a->sa_family == AF_INET6)) nodelay(fd);
  return real(fd, a, l);
}

int accept(int s, struct sockaddr *a, socklen_t *l) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  int fd = real(s, a, l);
  nodelay(fd);
  return fd;
}

int accept4(int s, struct sockaddr *a, socklen_t *l, int flags) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
  int fd = real(s, a, l, flags);
  nodelay(fd);
  return fd;
}
