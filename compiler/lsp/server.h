// server.h — the Language Server Protocol 3.17 server (JSON-RPC 2.0 with Content-Length framing)
// over a pair of file descriptors, on the engine of lsp/engine.h. `cfmc lsp` runs it on stdin
// and stdout. Garbage from the client gets JSON-RPC errors; a bad document never stops it.
#pragma once

#include <string>

namespace cfm::lsp {

struct ServerOptions {
  int debounceMs = 15; // diagnostics wait this long after the last change of a document
  std::string version; // reported as serverInfo.version
};

/// Serves requests from `inFd`, replying on `outFd`, until `exit` or the end of the input.
/// Returns the process's exit status: 0 after `shutdown` then `exit`, 1 otherwise (LSP 3.17).
int serve(int inFd, int outFd, const ServerOptions &opts = {});

/// A `file://` URI's path (percent-decoded); any other URI as it is.
std::string uriToPath(const std::string &uri);
/// The `file://` URI of an absolute path (percent-encoding what needs it).
std::string pathToUri(const std::string &path);

} // namespace cfm::lsp
