// logic.h — the pure parts of cfm-cloud, kept apart so that unit tests reach them without a server:
// the token bucket that throttles each access key, the instance state machine (EC2's codes and
// which transitions an action may start), DescribeInstances' filters, pagination tokens and the
// quota check.
#pragma once
#include "net/query.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::cloud {

/// A token bucket: `burst` tokens, refilled at `rate` per second. Time is given by the caller
/// (milliseconds of a monotonic clock) so that tests need no clock.
class TokenBucket {
public:
  TokenBucket(double rate, double burst, int64_t nowMs)
      : rate_(rate), burst_(burst), tokens_(burst), last_(nowMs) {}
  /// Takes one token: false when the bucket is empty (the request is throttled).
  bool take(int64_t nowMs);
  double tokens() const { return tokens_; }

private:
  double rate_, burst_, tokens_;
  int64_t last_;
};

/// EC2's instance states with their codes.
enum class State {
  Pending = 0,
  Running = 16,
  ShuttingDown = 32,
  Terminated = 48,
  Stopping = 64,
  Stopped = 80
};
std::string_view stateName(State s);
std::optional<State> stateFromName(std::string_view name);

/// The actions that change an instance's state.
enum class Transition { Start, Stop, Reboot, Terminate };
/// What the action does to an instance in state `s`: the new state, or nullopt when EC2 refuses
/// it with IncorrectInstanceState. Start of a running/pending instance and Stop of a stopped or
/// stopping one leave it as it is (EC2 answers with the current state); Terminate of a
/// terminated one too.
std::optional<State> transition(State s, Transition t);

/// What a filter sees of a resource: its fields by filter name and its tags.
struct Filterable {
  std::map<std::string, std::string, std::less<>> fields; // "instance-state-name" -> "running"
  std::map<std::string, std::string, std::less<>> tags;
};
/// Whether `filterName` is one this server understands for the resource (`known` lists the
/// field names; `tag:KEY` and `tag-key` are always understood).
bool filterKnown(std::string_view filterName, const std::vector<std::string> &known);
/// Whether the resource passes every filter (values of one filter are alternatives; `*` and `?`
/// are wildcards as in EC2).
bool matches(const Filterable &r, const std::vector<net::Ec2Filter> &filters);
/// EC2's wildcard match: `*` any run, `?` one character.
bool wildcardMatch(std::string_view pattern, std::string_view text);

/// One page of `total` items, from a NextToken and MaxResults.
struct Page {
  size_t begin = 0, end = 0;
  std::string nextToken; // empty when this is the last page
};
/// `token` is what a previous page gave (empty for the first); `maxResults` 0 means all.
/// nullopt: the token is not one this server wrote (InvalidParameterValue).
std::optional<Page> paginate(size_t total, std::string_view token, int64_t maxResults);

/// Whether starting `count` more instances of `vcpusEach` vCPUs stays within the quotas; the
/// error code when not: InstanceLimitExceeded (instance count) is checked first, then
/// InsufficientInstanceCapacity (vCPUs).
std::optional<std::string> quotaRefusal(int64_t active, int64_t activeVcpus, int64_t count, int64_t vcpusEach,
                                        int64_t quotaInstances, int64_t quotaVcpus);

} // namespace cfm::cloud
