// line_sink_test.cpp — cfmd/line_sink: writes of any shape arrive as whole lines, a last line
// without newline at fclose, long lines in kMaxLineBytes pieces; and a run's stream feeding the
// run table as cfmd's runs will.
#include "cfmd/line_sink.h"
#include "cfmd/run_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace cfm::cfmd;

TEST(LineSink, CutsIntoLines) {
  std::vector<std::string> lines;
  auto f = openLineSink([&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(f.ok()) << f.error().message;
  fputs("one\ntw", *f);
  fputs("o\n\nthr", *f);
  fprintf(*f, "%s", "ee");
  fflush(*f);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", ""}));
  fclose(*f);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST(LineSink, LongLineInPieces) {
  std::vector<std::string> lines;
  auto f = openLineSink([&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(f.ok());
  std::string big(kMaxLineBytes + 10, 'x');
  fwrite(big.data(), 1, big.size(), *f);
  fputc('\n', *f);
  fclose(*f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), kMaxLineBytes);
  EXPECT_EQ(lines[1].size(), 10u);
}

TEST(LineSink, IntoRunTable) {
  RunTable t;
  std::string id = t.create("a.cfp", "main");
  auto out = openLineSink([&](std::string_view l) { t.append(id, false, l); });
  auto err = openLineSink([&](std::string_view l) { t.append(id, true, l); });
  ASSERT_TRUE(out.ok() && err.ok());
  fputs("printed\n", *out);
  fputs("error: boom\n", *err);
  fputs("after", *out);
  fclose(*out);
  fclose(*err);
  t.finish(id, 1);
  OutputChunk c = t.read(id, 0, false);
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_FALSE(c.lines[0].err);
  EXPECT_EQ(c.lines[0].text, "printed");
  EXPECT_TRUE(c.lines[1].err);
  EXPECT_EQ(c.lines[2].text, "after");
  EXPECT_TRUE(c.ended);
  EXPECT_EQ(t.get(id)->state, RunState::Failed);
  EXPECT_EQ(t.cancel(id), RunTable::CancelResult::Ended);
  EXPECT_EQ(t.cancel("r-9"), RunTable::CancelResult::NoSuchRun);
  std::string other = t.create("b.cfp", "main"); // no cancel hook installed
  EXPECT_EQ(t.cancel(other), RunTable::CancelResult::NotCancellable);
  EXPECT_EQ(t.get(other)->state, RunState::Running);
  t.finish(other, 0);
  EXPECT_EQ(t.get(other)->state, RunState::Succeeded);
}

} // namespace
