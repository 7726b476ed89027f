// cloud_srv_logic_test.cpp — cfm-cloud's pure parts (cfm-cloud/logic.h): the token bucket, the
// instance state machine, DescribeInstances' filters and wildcards, pagination tokens, quotas.
#include "cfm-cloud/logic.h"

#include <gtest/gtest.h>

namespace {

using namespace cfm::cloud;

TEST(CloudTokenBucket, BurstThenRefillAtTheRate) {
  TokenBucket b(2.0, 3.0, 0); // 2 tokens a second, 3 at most
  EXPECT_TRUE(b.take(0));
  EXPECT_TRUE(b.take(0));
  EXPECT_TRUE(b.take(0));
  EXPECT_FALSE(b.take(0));   // empty
  EXPECT_FALSE(b.take(499)); // 0.998 tokens
  EXPECT_TRUE(b.take(500));  // one token after half a second
  EXPECT_FALSE(b.take(500));
  EXPECT_TRUE(b.take(10000)); // refilled, but never past the burst
  EXPECT_TRUE(b.take(10000));
  EXPECT_TRUE(b.take(10000));
  EXPECT_FALSE(b.take(10000));
}

TEST(CloudTokenBucket, ClockGoingBackwardsAddsNothing) {
  TokenBucket b(1000.0, 1.0, 1000);
  EXPECT_TRUE(b.take(1000));
  EXPECT_FALSE(b.take(10));
}

TEST(CloudStateMachine, NamesAndCodes) {
  EXPECT_EQ(stateName(State::ShuttingDown), "shutting-down");
  EXPECT_EQ(int(State::Stopped), 80);
  EXPECT_EQ(stateFromName("stopping"), State::Stopping);
  EXPECT_FALSE(stateFromName("exploded").has_value());
}

TEST(CloudStateMachine, Transitions) {
  EXPECT_EQ(transition(State::Stopped, Transition::Start), State::Pending);
  EXPECT_EQ(transition(State::Running, Transition::Start), State::Running);
  EXPECT_FALSE(transition(State::Terminated, Transition::Start).has_value());
  EXPECT_FALSE(transition(State::Stopping, Transition::Start).has_value());
  EXPECT_EQ(transition(State::Running, Transition::Stop), State::Stopping);
  EXPECT_EQ(transition(State::Stopped, Transition::Stop), State::Stopped);
  EXPECT_FALSE(transition(State::ShuttingDown, Transition::Stop).has_value());
  EXPECT_EQ(transition(State::Stopped, Transition::Terminate), State::ShuttingDown);
  EXPECT_EQ(transition(State::Terminated, Transition::Terminate), State::Terminated);
  EXPECT_EQ(transition(State::Running, Transition::Reboot), State::Running);
  EXPECT_FALSE(transition(State::Stopped, Transition::Reboot).has_value());
}

TEST(CloudFilters, Wildcards) {
  EXPECT_TRUE(wildcardMatch("web*", "web-1"));
  EXPECT_TRUE(wildcardMatch("w?b", "web"));
  EXPECT_TRUE(wildcardMatch("*", ""));
  EXPECT_FALSE(wildcardMatch("web", "web-1"));
  EXPECT_FALSE(wildcardMatch("?", ""));
  EXPECT_TRUE(wildcardMatch("*a*b*c", "xxaxxbxxc"));
  // Many stars over a long text finish (no exponential backtracking).
  EXPECT_FALSE(wildcardMatch(std::string(200, '*') + "b", std::string(100000, 'a')));
}

TEST(CloudFilters, StateTagsAndZones) {
  Filterable r;
  r.fields = {{"instance-state-name", "running"}, {"availability-zone", "local-a-1"}, {"instance-id", "i-1"}};
  r.tags = {{"role", "web"}, {"env", ""}};
  using F = std::vector<cfm::net::Ec2Filter>;
  EXPECT_TRUE(matches(r, F{}));
  EXPECT_TRUE(matches(r, F{{"instance-state-name", {"stopped", "running"}}}));
  EXPECT_FALSE(matches(r, F{{"instance-state-name", {"stopped"}}}));
  EXPECT_TRUE(matches(r, F{{"tag:role", {"web"}}, {"availability-zone", {"local-a-1"}}}));
  EXPECT_FALSE(matches(r, F{{"tag:role", {"web"}}, {"availability-zone", {"local-a-2"}}}));
  EXPECT_FALSE(matches(r, F{{"tag:owner", {"*"}}}));
  EXPECT_TRUE(matches(r, F{{"tag:env", {""}}}));
  EXPECT_TRUE(matches(r, F{{"tag-key", {"env"}}}));
  EXPECT_FALSE(matches(r, F{{"tag-key", {"owner"}}}));
  EXPECT_TRUE(filterKnown("tag:anything", {}));
  EXPECT_TRUE(filterKnown("tag-key", {}));
  EXPECT_FALSE(filterKnown("tag:", {}));
  EXPECT_TRUE(filterKnown("instance-id", {"instance-id"}));
  EXPECT_FALSE(filterKnown("instance-idx", {"instance-id"}));
}

TEST(CloudPagination, PagesAndTokens) {
  auto p = paginate(12, "", 5);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->begin, 0u);
  EXPECT_EQ(p->end, 5u);
  EXPECT_EQ(p->nextToken, "cfm-5");
  p = paginate(12, "cfm-10", 5);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->begin, 10u);
  EXPECT_EQ(p->end, 12u);
  EXPECT_EQ(p->nextToken, "");
  p = paginate(12, "", 0); // no MaxResults: everything
  ASSERT_TRUE(p);
  EXPECT_EQ(p->end, 12u);
  EXPECT_EQ(p->nextToken, "");
  EXPECT_FALSE(paginate(12, "cfm-13", 5)); // past the end
  EXPECT_FALSE(paginate(12, "cfm-", 5));
  EXPECT_FALSE(paginate(12, "cfm-x", 5));
  EXPECT_FALSE(paginate(12, "token", 5));
  EXPECT_FALSE(paginate(12, "cfm-99999999999999", 5));
}

TEST(CloudQuotas, InstancesFirstThenVcpus) {
  EXPECT_FALSE(quotaRefusal(0, 0, 20, 1, 20, 64));
  EXPECT_EQ(quotaRefusal(19, 19, 2, 1, 20, 64), "InstanceLimitExceeded");
  EXPECT_EQ(quotaRefusal(1, 60, 1, 8, 20, 64), "InsufficientInstanceCapacity");
  EXPECT_EQ(quotaRefusal(20, 64, 1, 8, 20, 64), "InstanceLimitExceeded"); // both: the count first
}

} // namespace
