/* The door of src/base/: plain helpers that every layer may use.  Include
 * this, not the headers below it. */
#ifndef PIPJAIL_BASE_H
#define PIPJAIL_BASE_H

#include "base/util.h"
#include "base/failpoint.h"
#include "base/user.h"
#include "base/sha256.h"

#endif
