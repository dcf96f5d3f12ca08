// libzmq for the farm transport.
#ifndef LUMIERE_CZMQ_SHIM_H
#define LUMIERE_CZMQ_SHIM_H
#include <zmq.h>
#include <errno.h>
#ifdef __linux__
// ReadinessSet waits on thousands of ZMQ_FD descriptors (the swarm simulator); Glibc's module map lacks epoll.
#include <sys/epoll.h>
#endif
static inline int lumiere_zmq_errno(void) { return zmq_errno(); }
static inline int lumiere_eagain(void) { return EAGAIN; }
static inline int lumiere_eintr(void) { return EINTR; }
#endif
