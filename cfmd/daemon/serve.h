// serve.h — cfmd's serving loop (main.cpp opens the manager, this serves it): the run table, the
// runner and the control API on a Unix socket until SIGTERM or SIGINT. Kept apart from main.cpp
// because net/unix_http.h and the cloud driver's net/sigv4.h both name a `net::HttpRequest`.
#pragma once

#include "runtime/store/store.h"

#include <string>

namespace cfm::cfmd {

/// Serves the control API on `socket` (the process's manager, on `store` at `storePath`, is
/// already set) until SIGTERM or
/// SIGINT, which the caller has blocked in every thread; then cancels the runs and stops. The
/// exit status: 0 after the stop, 1 when the socket cannot be served (said on stderr).
int serve(const std::string &socket, const std::string &managerName, store::Store &store,
          const std::string &storePath);

} // namespace cfm::cfmd
