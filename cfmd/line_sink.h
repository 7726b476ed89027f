// line_sink.h — a C stream whose writes arrive as whole lines at a callback: how cfmd gives each
// run its own stdout and stderr. The engines write where compiler/run's RunOptions::out and
// ::err point (print, uncaught errors and their traces), so a run on a daemon thread gets two of
// these, feeding its lines into the run table instead of the daemon's own output.
#pragma once

#include "base/result.h"

#include <cstdio>
#include <functional>
#include <string_view>

namespace cfm::cfmd {

constexpr size_t kMaxLineBytes = 1024 * 1024; // a longer line is passed on in pieces this long

/// Opens a write-only stream (fopencookie) that calls `onLine` with each line written, without
/// its newline, on the writing thread; fclose() passes on a last line that has no newline. The
/// stream is line-buffered: nothing waits in it past a newline or an fflush.
Result<FILE *> openLineSink(std::function<void(std::string_view)> onLine);

} // namespace cfm::cfmd
