// logic.cpp — the pure parts of cfm-cloud (logic.h).
#include "cfm-cloud/logic.h"

#include <algorithm>

namespace cfm::cloud {

bool TokenBucket::take(int64_t nowMs) {
  if (nowMs > last_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * double(nowMs - last_) / 1000.0);
    last_ = nowMs;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::string_view stateName(State s) {
  switch (s) {
  case State::Pending: return "pending";
  case State::Running: return "running";
  case State::ShuttingDown: return "shutting-down";
  case State::Terminated: return "terminated";
  case State::Stopping: return "stopping";
  case State::Stopped: return "stopped";
  }
  return "pending";
}

std::optional<State> stateFromName(std::string_view name) {
  for (State s : {State::Pending, State::Running, State::ShuttingDown, State::Terminated, State::Stopping,
                  State::Stopped})
    if (stateName(s) == name) return s;
  return std::nullopt;
}

std::optional<State> transition(State s, Transition t) {
  switch (t) {
  case Transition::Start:
    if (s == State::Stopped) return State::Pending;
    if (s == State::Pending || s == State::Running) return s;
    return std::nullopt;
  case Transition::Stop:
    if (s == State::Pending || s == State::Running) return State::Stopping;
    if (s == State::Stopping || s == State::Stopped) return s;
    return std::nullopt;
  case Transition::Reboot:
    if (s == State::Running) return s;
    return std::nullopt;
  case Transition::Terminate:
    if (s == State::Terminated || s == State::ShuttingDown) return s;
    return State::ShuttingDown;
  }
  return std::nullopt;
}

bool wildcardMatch(std::string_view p, std::string_view t) {
  // Iterative glob with one backtrack point: linear in practice, never exponential.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool filterKnown(std::string_view name, const std::vector<std::string> &known) {
  if (name == "tag-key" || (name.starts_with("tag:") && name.size() > 4)) return true;
  return std::find(known.begin(), known.end(), name) != known.end();
}

namespace {
bool anyMatches(const std::vector<std::string> &patterns, std::string_view value) {
  for (const std::string &p : patterns)
    if (wildcardMatch(p, value)) return true;
  return false;
}
} // namespace

bool matches(const Filterable &r, const std::vector<net::Ec2Filter> &filters) {
  for (const net::Ec2Filter &f : filters) {
    if (f.name == "tag-key") {
      bool any = false;
      for (auto &[k, v] : r.tags) any = any || anyMatches(f.values, k);
      if (!any) return false;
    } else if (f.name.starts_with("tag:")) {
      auto it = r.tags.find(std::string_view(f.name).substr(4));
      if (it == r.tags.end() || !anyMatches(f.values, it->second)) return false;
    } else {
      auto it = r.fields.find(f.name);
      if (it == r.fields.end() || !anyMatches(f.values, it->second)) return false;
    }
  }
  return true;
}

std::optional<Page> paginate(size_t total, std::string_view token, int64_t maxResults) {
  size_t begin = 0;
  if (!token.empty()) {
    // Tokens are "cfm-" followed by the decimal offset of the next item.
    if (!token.starts_with("cfm-") || token.size() > 14 || token.size() == 4) return std::nullopt;
    for (char c : token.substr(4))
      if (c < '0' || c > '9') return std::nullopt;
    begin = std::stoull(std::string(token.substr(4)));
    if (begin > total) return std::nullopt;
  }
  Page p;
  p.begin = begin;
  p.end = maxResults <= 0 ? total : std::min(total, begin + size_t(maxResults));
  if (p.end < total) p.nextToken = "cfm-" + std::to_string(p.end);
  return p;
}

std::optional<std::string> quotaRefusal(int64_t active, int64_t activeVcpus, int64_t count, int64_t vcpusEach,
                                        int64_t quotaInstances, int64_t quotaVcpus) {
  if (active + count > quotaInstances) return std::string("InstanceLimitExceeded");
  if (activeVcpus + count * vcpusEach > quotaVcpus) return std::string("InsufficientInstanceCapacity");
  return std::nullopt;
}

} // namespace cfm::cloud
