// mqtt_test.cpp — net/mqtt against a real mosquitto: v5 properties carried both ways, retained
// messages, the Last Will, connecting while the broker is not yet up, reconnecting (and
// subscribing again) after the broker is killed and restarted, and failures as values.
#include "harness.h"

#include <gtest/gtest.h>

#include <thread>

using namespace cfm;
using namespace cfm::agenttest;

namespace {

struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<net::MqttMessage> got;
  void attach(net::MqttClient &c) {
    c.onMessage([this](const net::MqttMessage &m) {
      std::lock_guard lock(mu);
      got.push_back(m);
      cv.notify_all();
    });
  }
  bool waitFor(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return got.size() >= n; });
  }
};

std::unique_ptr<net::MqttClient> client(const std::string &uri, const std::string &id,
                                        std::optional<net::MqttMessage> will = std::nullopt) {
  net::MqttOptions o;
  o.uri = uri;
  o.clientId = id;
  o.will = std::move(will);
  auto c = net::MqttClient::create(o);
  EXPECT_TRUE(c.ok());
  return std::move(*c);
}

} // namespace

TEST(Mqtt, PropertiesTravel) {
  TempDir d;
  Broker b(d.path);
  auto sub = client(b.uri(), "sub");
  Inbox in;
  in.attach(*sub);
  ASSERT_TRUE(sub->connect(std::chrono::seconds(30)).ok());
  ASSERT_TRUE(sub->subscribe("t/#", 1).ok());
  auto pub = client(b.uri(), "pub");
  ASSERT_TRUE(pub->connect(std::chrono::seconds(30)).ok());
  net::MqttMessage m;
  m.topic = "t/a";
  m.payload = std::string("bin\0ary", 7);
  m.responseTopic = "t/reply";
  m.correlationData = std::string("c\0d", 3);
  m.userProperties = {{"sig", "abc"}, {"k", "v"}};
  ASSERT_TRUE(pub->publish(m).ok());
  ASSERT_TRUE(in.waitFor(1));
  const auto &g = in.got[0];
  EXPECT_EQ(g.topic, "t/a");
  EXPECT_EQ(g.payload, m.payload);
  EXPECT_EQ(g.responseTopic, "t/reply");
  EXPECT_EQ(g.correlationData, m.correlationData);
  EXPECT_EQ(g.userProperty("sig"), "abc");
  EXPECT_EQ(g.userProperty("k"), "v");
  EXPECT_FALSE(g.userProperty("none"));
  EXPECT_EQ(g.qos, 1);
}

TEST(Mqtt, RetainedAndLastWill) {
  TempDir d;
  Broker b(d.path);
  net::MqttMessage will;
  will.topic = "p/x";
  will.payload = "down";
  will.retain = true;
  // A client that dies without DISCONNECT: made in a child process killed by PID.
  pid_t pid = fork();
  if (pid == 0) {
    auto c = client(b.uri(), "dying", will);
    if (!c->connect(std::chrono::seconds(30)).ok()) _exit(1);
    net::MqttMessage up = will;
    up.payload = "up";
    if (!c->publish(up).ok()) _exit(1);
    for (;;) pause();
  }
  auto watcher = client(b.uri(), "watcher");
  Inbox in;
  in.attach(*watcher);
  ASSERT_TRUE(watcher->connect(std::chrono::seconds(30)).ok());
  ASSERT_TRUE(watcher->subscribe("p/x", 1).ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(in.mu);
    return !in.got.empty() && in.got.back().payload == "up";
  }));
  ::kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(in.mu);
    return in.got.back().payload == "down";
  }));
  // A newcomer gets the retained Will.
  auto late = client(b.uri(), "late");
  Inbox lin;
  lin.attach(*late);
  ASSERT_TRUE(late->connect(std::chrono::seconds(30)).ok());
  ASSERT_TRUE(late->subscribe("p/x", 1).ok());
  ASSERT_TRUE(lin.waitFor(1));
  EXPECT_EQ(lin.got[0].payload, "down");
  EXPECT_TRUE(lin.got[0].retain);
}

TEST(Mqtt, ConnectsOnceTheBrokerIsUpAndReconnects) {
  TempDir d;
  int port = freePort();
  std::string uri = "tcp://127.0.0.1:" + std::to_string(port);
  auto sub = client(uri, "sub");
  Inbox in;
  in.attach(*sub);
  std::atomic<int> lost{0}, back{0};
  sub->onConnection([&](net::MqttConnectionEvent e, const std::string &) {
    (e == net::MqttConnectionEvent::Lost ? lost : back)++;
  });
  std::unique_ptr<Broker> b;
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    b = std::make_unique<Broker>(d.path, port);
  });
  auto r = sub->connect(std::chrono::seconds(60)); // retries while nothing listens
  later.join();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(sub->subscribe("t", 1).ok());
  b->kill();
  ASSERT_TRUE(eventually([&] { return lost.load() == 1; }));
  EXPECT_FALSE(sub->connected());
  b->start();
  ASSERT_TRUE(eventually([&] { return back.load() == 1; }));
  // Subscribed again by the layer: the broker had forgotten everything.
  auto pub = client(uri, "pub");
  ASSERT_TRUE(pub->connect(std::chrono::seconds(30)).ok());
  net::MqttMessage m;
  m.topic = "t";
  m.payload = "after";
  ASSERT_TRUE(pub->publish(m).ok());
  ASSERT_TRUE(in.waitFor(1));
  EXPECT_EQ(in.got[0].payload, "after");
}

TEST(Mqtt, FailuresAreValues) {
  net::MqttOptions o;
  o.clientId = "x";
  o.uri = "nonsense://";
  EXPECT_FALSE(net::MqttClient::create(o).ok());
  o.uri = "tcp://127.0.0.1:" + std::to_string(freePort());
  o.clientId = "";
  EXPECT_FALSE(net::MqttClient::create(o).ok());
  o.clientId = "x";
  auto c = net::MqttClient::create(o);
  ASSERT_TRUE(c.ok());
  net::MqttMessage m;
  m.topic = "t";
  EXPECT_FALSE((*c)->publish(m).ok()); // not connected
  auto r = (*c)->connect(std::chrono::milliseconds(300));
  EXPECT_FALSE(r.ok()); // nothing listens
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (*c)->interrupt();
  });
  EXPECT_FALSE((*c)->connect(std::chrono::milliseconds(0)).ok()); // no limit, interrupted
  stopper.join();
}
