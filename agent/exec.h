// exec.h — how cfm-agent runs one command (docs/agent-protocol.md, `exec`): `/bin/sh -c` in a
// process group of its own, working directory the VM root, environment the agent's plus
// CFM_VM_ROOT plus the request's; stdout and stderr kept up to kMaxOutputBytes each (the rest read
// and dropped, `truncated`); on timeout SIGTERM to the group, then SIGKILL kKillGraceMs later.
//
// The agent is a child subreaper (main.cpp), so a command's orphaned descendants stay its
// children: a command is over when its group has no process left (or, without a timeout, when
// its shell exited: what it left running in the background is not waited for).
#pragma once

#include "base/result.h"
#include "net/agent_proto.h"

#include <string>

namespace cfm::agent {

constexpr size_t kMaxOutputBytes = 1u << 20;
constexpr int kKillGraceMs = 5000;

/// Runs ARGS.command under ROOT and waits for it. Fails only when it cannot be started.
Result<net::ExecResult> runCommand(const net::ExecArgs &args, const std::string &root);

} // namespace cfm::agent
