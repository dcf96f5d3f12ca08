// libzmq for the farm transport.
#ifndef LUMIERE_CZMQ_SHIM_H
#define LUMIERE_CZMQ_SHIM_H
#include <zmq.h>
#include <errno.h>
static inline int lumiere_zmq_errno(void) { return zmq_errno(); }
static inline int lumiere_eagain(void) { return EAGAIN; }
static inline int lumiere_eintr(void) { return EINTR; }
#endif
