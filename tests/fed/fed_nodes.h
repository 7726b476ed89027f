// fed_nodes.h — what the federation tests share: a node of the test's own on a broker of the
// test's own (tests/agent/harness.h), logging to stderr.
#pragma once

#include "runtime/fed/node.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cfm::fedtest {

/// Node NAME (cloud cloud-NAME) on 127.0.0.1:PORT with the store at STOREPATH, following
/// FOLLOWED (empty: every system); null after a test failure.
inline std::unique_ptr<fed::Node> startNode(const std::string &name, const std::string &storePath, int port,
                                            std::vector<std::string> followed = {}) {
  fed::NodeOptions o;
  o.manager = name;
  o.cloud = "cloud-" + name;
  o.brokerPort = port;
  o.storePath = storePath;
  o.followed = std::move(followed);
  o.logger = [](const std::string &line) { fprintf(stderr, "%s\n", line.c_str()); };
  auto n = fed::Node::start(o);
  EXPECT_TRUE(n.ok()) << (n ? "" : n.error().message);
  return n ? std::move(*n) : nullptr;
}

} // namespace cfm::fedtest
