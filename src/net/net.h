/* The door of src/net/: the egress proxy (proxy.h), the host rules that say
 * where pip may go (hostrule.h) and the analyze sinkhole (sinkhole.h).
 * Include this, not the headers below it. */
#ifndef PIPJAIL_NET_H
#define PIPJAIL_NET_H

#include "net/hostrule.h"
#include "net/proxy.h"
#include "net/sinkhole.h"

#endif
