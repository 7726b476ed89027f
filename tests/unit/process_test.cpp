// process_test.cpp — base/process.h on real processes: a session started with setsid whose
// shell puts a sleeper into a process group of its own (as an agent command does) is alive
// while either lives, and one signalSession (or a ProcessTable's signal) ends both, where
// killing the group alone would leave the sleeper running.
#include "base/process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace cfm;

bool eventually(bool want, pid_t sid) {
  for (int i = 0; i < 300; ++i) {
    if (base::sessionAlive(sid) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// sh (session leader) starts a sleeper that moves into a group of its own (setpgid, as an
// agent command's process group), writes its pid, then waits; we kill the leader's group only
// and see the sleeper survive, then end the session with signalSession, or with a ProcessTable
// (TABLE) scanned once.
void sessionWithAStray(bool table) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  const char *argv[] = {
      "/bin/sh", "-c",
      "/usr/bin/perl -e 'setpgrp(0, 0); exec \"sleep\", \"60\"' </dev/null & echo $!; exec sleep 60",
      nullptr};
  pid_t leader = -1;
  ASSERT_EQ(posix_spawn(&leader, "/bin/sh", &fa, &attr, const_cast<char **>(argv), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  char buf[32] = {0};
  ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  ASSERT_GT(n, 0);
  pid_t sleeper = pid_t(std::atol(buf));
  ASSERT_GT(sleeper, 0);
  for (int i = 0; i < 500 && ::getpgid(sleeper) == leader; ++i) // until perl's setpgrp has run
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_NE(::getpgid(sleeper), leader); // a group of its own
  EXPECT_EQ(::getsid(sleeper), leader);  // in the leader's session

  EXPECT_TRUE(base::sessionAlive(leader));
  ::kill(-leader, SIGKILL); // the group only
  ASSERT_EQ(::waitpid(leader, nullptr, 0), leader);
  EXPECT_EQ(::kill(sleeper, 0), 0) << "the sleeper outlives its session leader's group";
  EXPECT_TRUE(base::sessionAlive(leader));

  if (table) {
    base::ProcessTable t = base::ProcessTable::scan();
    EXPECT_TRUE(t.alive(leader));
    EXPECT_TRUE(t.alive(::getpgid(sleeper))); // by its group too
    EXPECT_FALSE(t.alive(leader + 1000000));  // no such session
    EXPECT_EQ(t.signal(leader, SIGKILL), 1);  // the sleeper, the one process left
  } else {
    EXPECT_GE(base::signalSession(leader, SIGKILL), 1);
  }
  EXPECT_TRUE(eventually(false, leader)) << "the sleeper (pid " << sleeper << ") survived";
  EXPECT_EQ(base::signalSession(leader, SIGKILL), 0);
  EXPECT_FALSE(base::ProcessTable::scan().alive(leader));
}

TEST(ProcessTest, SignalSessionReachesOtherGroups) { sessionWithAStray(false); }

TEST(ProcessTest, ProcessTableReachesOtherGroups) { sessionWithAStray(true); }

TEST(ProcessTest, NoSuchSession) {
  EXPECT_FALSE(base::sessionAlive(0));
  EXPECT_FALSE(base::sessionAlive(1)); // init's session is never "a VM"
  EXPECT_EQ(base::signalSession(1, 0), 0);
  base::ProcessTable t = base::ProcessTable::scan();
  EXPECT_FALSE(t.alive(0));
  EXPECT_FALSE(t.alive(1));
  EXPECT_EQ(t.signal(1, 0), 0);
}

} // namespace
