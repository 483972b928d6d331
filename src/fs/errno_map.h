// errno_map.h — the one place a typed Error becomes an errno.
//
// Thread rules: pure function.
#pragma once

#include "common/result.h"

namespace mmcfs::fs {

// Exhaustive over Errc; anything unexpected is EIO.
int to_errno(Errc code);

// True for outcomes the kernel asks about all the time (ENOENT on lookup):
// logged at debug level only.
bool is_routine(Errc code);

}  // namespace mmcfs::fs
