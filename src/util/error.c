/* error.c - error strings shared by every subsystem. */
#include "common.h"

const char *pd_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case PD_ENOMEM: return "out of memory";
    case PD_EINVAL: return "invalid argument";
    case PD_EFULL: return "no room left (a bounded queue or table is full)";
    case PD_ESHUTDOWN: return "shutting down";
    case PD_ECANCELED: return "canceled";
    case PD_ETIMEDOUT: return "timed out";
    case PD_EIO: return "i/o error";
    case PD_EFORMAT: return "invalid format";
    case PD_ETOOBIG: return "too big";
    case PD_ENOTFOUND: return "not found";
    default: return "unknown error";
    }
}
