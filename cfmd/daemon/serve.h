// serve.h — cfmd's serving loop (main.cpp opens the manager, this serves it): the run table, the
// runner and the control API on a Unix socket until SIGTERM or SIGINT. Kept apart from main.cpp
// because net/unix_http.h and the cloud driver's net/sigv4.h both name a `net::UnixHttpRequest`.
#pragma once

#include "cfmd/daemon/manager_host.h"

#include <string>

namespace cfm::cfmd {

/// Serves the control API on `socket` (each run with its own manager from `host`) until SIGTERM or
/// SIGINT, which the caller has blocked in every thread; then cancels the runs and stops. The
/// exit status: 0 after the stop, 1 when the socket cannot be served (said on stderr).
int serve(const std::string &socket, ManagerHost &host);

} // namespace cfm::cfmd
