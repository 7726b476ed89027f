// lsp_cmd.cpp — `cfmc lsp`: parses its options and runs the language server (lsp/server.h) on
// stdin and stdout. Nothing else may write to stdout while it runs: that is the protocol's channel.
#include "cfmc/lsp_cmd.h"

#include "lsp/server.h"

#include <iostream>
#include <unistd.h>

namespace cfm::driver {
namespace {
const char *const kLspHelp = R"(usage: cfmc lsp [--debounce MS]

Runs the language server of CFM's procedure language: the Language Server Protocol 3.17 over
stdin and stdout (JSON-RPC with Content-Length headers), for an editor to start (editors/).
It publishes the diagnostics of `cfmc check` for every open document and answers hover,
completion, signature help, go to definition, references and document symbols.

options:
  --debounce MS   wait MS milliseconds after the last change before checking (default 15)
  --stdio         accepted for clients that pass it (stdio is the only transport)

Exit status: 0 after `shutdown` and `exit`; 1 when the client left without them; 2 on bad usage.
)";
} // namespace

int cmdLsp(const std::vector<std::string> &args, const char *version) {
  lsp::ServerOptions opts;
  opts.version = version;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kLspHelp;
      return 0;
    }
    if (a == "--stdio") continue;
    if (a == "--debounce" && i + 1 < args.size()) {
      const std::string &v = args[++i];
      if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos) {
        std::cerr << "cfmc: error: `--debounce` needs a number of milliseconds\n" << kLspHelp;
        return 2;
      }
      opts.debounceMs = std::stoi(v);
      continue;
    }
    std::cerr << "cfmc: error: unknown option `" << a << "`\n" << kLspHelp;
    return 2;
  }
  std::cout.flush();
  return lsp::serve(STDIN_FILENO, STDOUT_FILENO, opts);
}

} // namespace cfm::driver
