// paths_test.cpp — base/paths.h (opening a relative path confined to a directory),
// base/atomic_file.h (replacing a file whole or not at all) and base/files.h's errors (kind and
// place, base/result.h), on real files in a temp folder: the kernel resolver (openat2) and the
// fallback walk must give the same answer for every case.
#include "base/atomic_file.h"
#include "base/files.h"
#include "base/paths.h"
#include "base/text.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace cfm;
namespace fs = std::filesystem;

class PathsTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cfm-paths-test-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    // root/secret (outside), root/pkg (the directory), root/pkg/sub/f, root/pkg/f
    fs::create_directories(root_ / "pkg" / "sub");
    write(root_ / "secret", "secret");
    write(root_ / "pkg" / "f", "top");
    write(root_ / "pkg" / "sub" / "f", "inner");
    dir_ = (root_ / "pkg").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write(const fs::path &p, const std::string &text) {
    std::ofstream(p, std::ios::binary) << text;
  }

  /// What both resolvers give for REL: the file's text, or "error: MESSAGE".
  std::pair<std::string, std::string> open(const std::string &rel) {
    auto readAll = [](Result<base::UniqueFd> fd) -> std::string {
      if (!fd) return "error: " + fd.error().message;
      auto text = base::readRegularFd(fd->get(), 1 << 20);
      return text ? *text : "error: " + text.error().message;
    };
    int d = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(d, 0);
    base::UniqueFd dir(d);
    return {readAll(base::openBeneath(dir_, rel, O_RDONLY | O_NONBLOCK)),
            readAll(base::openBeneathWalk(dir.get(), rel, O_RDONLY | O_NONBLOCK))};
  }

  /// Both resolvers read TEXT for REL.
  void expectReads(const std::string &rel, const std::string &text) {
    auto [kernel, walk] = open(rel);
    EXPECT_EQ(kernel, text) << rel;
    EXPECT_EQ(walk, text) << rel;
  }
  /// Both resolvers refuse REL with a message holding WHAT.
  void expectRefused(const std::string &rel, const std::string &what = "leaves its directory") {
    auto [kernel, walk] = open(rel);
    EXPECT_EQ(kernel.rfind("error: ", 0), 0u) << rel << " read by openat2: " << kernel;
    EXPECT_NE(kernel.find(what), std::string::npos) << rel << ": " << kernel;
    EXPECT_EQ(walk.rfind("error: ", 0), 0u) << rel << " read by the walk: " << walk;
    EXPECT_NE(walk.find(what), std::string::npos) << rel << ": " << walk;
  }

  fs::path root_;
  std::string dir_;
};

TEST_F(PathsTest, PlainPathsBeneathTheDirectory) {
  expectReads("f", "top");
  expectReads("sub/f", "inner");
  expectReads("./sub//f", "inner");
  expectReads("sub/../f", "top"); // `..` that stays inside is allowed
  expectRefused("nope", "no such file or directory");
  expectRefused("", "no such file or directory");
}

TEST_F(PathsTest, EscapesAreRefused) {
  expectRefused("../secret");
  expectRefused("sub/../../secret");
  expectRefused((root_ / "secret").string()); // an absolute path, even to a file that exists
  fs::create_symlink("/etc/passwd", root_ / "pkg" / "passwd");
  expectRefused("passwd"); // the issue's case: a link to a system file
  fs::create_symlink("../secret", root_ / "pkg" / "up");
  expectRefused("up");
  fs::create_symlink(root_ / "pkg" / "f", root_ / "pkg" / "abs-inside");
  expectRefused("abs-inside"); // absolute links are refused even when they point inside
  fs::create_symlink(root_, root_ / "pkg" / "parent");
  expectRefused("parent/secret"); // a linked parent directory
  fs::create_symlink("..", root_ / "pkg" / "sub" / "dotdot");
  expectRefused("sub/dotdot/../secret");
  fs::create_symlink("/proc/self/root/etc/passwd", root_ / "pkg" / "magic");
  expectRefused("magic");
}

TEST_F(PathsTest, LinksThatStayInsideAreFollowed) {
  fs::create_symlink("sub/f", root_ / "pkg" / "in");
  expectReads("in", "inner");
  fs::create_symlink("sub", root_ / "pkg" / "subdir");
  expectReads("subdir/f", "inner");
  fs::create_symlink("../f", root_ / "pkg" / "sub" / "back");
  expectReads("sub/back", "top");
  fs::create_symlink("loop", root_ / "pkg" / "loop");
  expectRefused("loop", "too many levels of symbolic links");
}

TEST_F(PathsTest, AFifoIsOpenedWithoutWaitingAndRefused) {
  ASSERT_EQ(mkfifo((root_ / "pkg" / "fifo").c_str(), 0600), 0);
  expectRefused("fifo", "is not a regular file");
  expectRefused("sub", "is a directory");
}

// base/files.h: the reader's errors have a kind and the file as their place; the message leaves
// the path to the caller. describe() puts a place in front only when it has a line.
TEST_F(PathsTest, ReadErrorsHaveKindAndFile) {
  std::string sub = (root_ / "pkg" / "sub").string();
  auto dir = base::readRegularFile(sub, 100);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().kind, ErrorKind::Io);
  EXPECT_EQ(dir.error().message, "is a directory");
  ASSERT_TRUE(dir.error().loc);
  EXPECT_EQ(dir.error().loc->file, sub);
  EXPECT_EQ(dir.error().loc->line, 0);
  EXPECT_EQ(dir.error().describe(), "is a directory");
  auto big = base::readRegularFile((root_ / "secret").string(), 3);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::Limit);
  EXPECT_EQ(big.error().message, "is larger than the limit of 3 bytes");
  ASSERT_TRUE(big.error().loc);
  EXPECT_EQ(big.error().loc->file, (root_ / "secret").string());
  auto missing = base::readRegularFile((root_ / "none").string(), 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);
  ASSERT_TRUE(missing.error().loc);

  Error placed(ErrorKind::Ovf, "bad", SourceLoc{"d.ovf", 3, 7});
  EXPECT_EQ(placed.describe(), "d.ovf:3:7: error: bad");
  EXPECT_EQ(Error(ErrorKind::Ovf, "bad", SourceLoc{"d.ovf", 3, 0}).describe(), "d.ovf:3: error: bad");
  Error framed = placed.framed("template `t`: ");
  EXPECT_EQ(framed.describe(), "d.ovf:3:7: error: template `t`: bad");
  EXPECT_EQ(framed.kind, ErrorKind::Ovf);
  EXPECT_EQ(framed.inFile("other").loc->file, "d.ovf"); // a place is never replaced
  EXPECT_EQ(errorKindName(ErrorKind::Limit), "Limit");
  EXPECT_EQ(base::errorJson(placed),
            R"({"file":"d.ovf","line":3,"column":7,"severity":"error","kind":"Ovf","message":"bad"})");
  EXPECT_EQ(base::errorJson(Error(ErrorKind::Usage, "say \"x\"")),
            R"({"severity":"error","kind":"Usage","message":"say \"x\""})");
}

TEST_F(PathsTest, ReplaceFileAtomically) {
  fs::path out = root_ / "out.txt";
  ASSERT_TRUE(base::replaceFileAtomically(out.string(), "one"));
  std::ifstream in1(out);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in1), {}), "one");
  ::chmod(out.c_str(), 0640);
  ASSERT_TRUE(base::replaceFileAtomically(out.string(), "two"));
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u); // the replaced file's mode is kept
  // Through a link, the target is replaced and the link stays a link.
  fs::create_symlink(out, root_ / "link");
  ASSERT_TRUE(base::replaceFileAtomically((root_ / "link").string(), "three"));
  EXPECT_TRUE(fs::is_symlink(root_ / "link"));
  std::ifstream in3(out);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in3), {}), "three");
  EXPECT_TRUE(base::sameFile((root_ / "link").string(), out.string()));
  EXPECT_FALSE(base::sameFile((root_ / "secret").string(), out.string()));
  // A failure leaves no temporary file behind.
  auto bad = base::replaceFileAtomically((root_ / "pkg").string(), "x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "is not a regular file");
  auto missingDir = base::replaceFileAtomically((root_ / "none" / "x").string(), "x");
  ASSERT_FALSE(missingDir);
  for (const auto &e : fs::directory_iterator(root_))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(PathsTest, ReplaceFileAtomicallyWithAModeAndWithoutFlushing) {
  fs::path out = root_ / "user-data";
  // a given mode wins over the umask's default and over the replaced file's mode
  ASSERT_TRUE(base::replaceFileAtomically(out.string(), "secret", {.durable = false, .mode = 0600}));
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ::chmod(out.c_str(), 0644);
  ASSERT_TRUE(base::replaceFileAtomically(out.string(), "again", {.durable = false, .mode = 0600}));
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::ifstream in(out);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "again");
}

} // namespace
