// lsp_engine_test.cpp — the language server's engine (compiler/lsp/engine.h) without JSON-RPC:
// diagnostics from open buffers and imports, hover, completion (scopes, members after `.`, also
// in half-written text), definition across imports, references, symbols, signature help and
// formatting (edits of the changed lines, range formatting, a file that does not parse).
#include "lsp/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace cfm::lsp;
namespace fs = std::filesystem;

namespace {

const char *kLib = R"(// The port a service listens on.
record Service { name: string, port: int }
fn describe(s: Service, verbose: int) -> string {
  return s.name;
}
)";

const char *kMain = R"(import "lib.cfp";
const LIMIT: int = 3;
procedure main() {
  let svc = Service { name: "web", port: 80 };
  let words = ["a", "b"];
  for w in words {
    print(describe(svc, LIMIT));
  }
  print(svc.port);
}
)";

class LspEngine : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("cfm-lsp-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "lib.cfp") << kLib;
    main = (dir / "main.cfp").string();
    ws.open(main, kMain);
  }
  void TearDown() override { fs::remove_all(dir); }
  bool has(const std::vector<CompletionEntry> &v, const std::string &label) {
    return std::any_of(v.begin(), v.end(), [&](const CompletionEntry &e) { return e.label == label; });
  }
  fs::path dir;
  std::string main;
  Workspace ws;
};

TEST_F(LspEngine, CleanProgramHasNoDiagnostics) {
  auto d = ws.diagnose(main);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[main].empty());
}

TEST_F(LspEngine, ErrorsOfTheOpenBufferNotTheDisk) {
  ws.change(main, "procedure main() {\n  let x: int = \"s\";\n}\n");
  auto d = ws.diagnose(main);
  ASSERT_EQ(d[main].size(), 1u);
  EXPECT_EQ(d[main][0].range.start.line, 1u);
  EXPECT_EQ(d[main][0].code, "TypeMismatch");
  ws.change(main, "procedure main( {\n");
  d = ws.diagnose(main);
  EXPECT_FALSE(d[main].empty()); // a syntax error, and the engine keeps going
}

TEST_F(LspEngine, ImportsReadFromOpenBuffersFirst) {
  std::string lib = (dir / "lib.cfp").string();
  ws.open(lib, "record Service { name: string }\nfn describe(s: Service, verbose: int) -> string { return "
               "s.name; }\n");
  auto d = ws.diagnose(main);
  ASSERT_FALSE(d[main].empty()); // `port` is no longer a field
}

TEST_F(LspEngine, HoverShowsTypesAndSignatures) {
  auto h = ws.hover(main, {3, 7}); // svc
  ASSERT_TRUE(h);
  EXPECT_NE(h->text.find("svc: Service"), std::string::npos) << h->text;
  h = ws.hover(main, {6, 12}); // describe
  ASSERT_TRUE(h);
  EXPECT_NE(h->text.find("fn describe(s: Service, verbose: int) -> string"), std::string::npos) << h->text;
  h = ws.hover(main, {6, 6}); // print
  ASSERT_TRUE(h);
  EXPECT_NE(h->text.find("Prints"), std::string::npos) << h->text;
  h = ws.hover(main, {8, 13}); // port
  ASSERT_TRUE(h);
  EXPECT_NE(h->text.find("Service.port: int"), std::string::npos) << h->text;
}

TEST_F(LspEngine, CompletionInScope) {
  auto c = ws.complete(main, {6, 10});
  EXPECT_TRUE(has(c, "w"));
  EXPECT_TRUE(has(c, "svc"));
  EXPECT_TRUE(has(c, "LIMIT"));
  EXPECT_TRUE(has(c, "describe"));
  EXPECT_TRUE(has(c, "run_vm"));
  EXPECT_TRUE(has(c, "while"));
  c = ws.complete(main, {3, 2});
  EXPECT_FALSE(has(c, "w")); // the loop variable is not in scope before the loop
}

TEST_F(LspEngine, MemberCompletionOnHalfWrittenText) {
  std::string t = kMain;
  t.replace(t.find("print(svc.port);"), 16, "print(svc.");
  ws.change(main, t);
  auto c = ws.complete(main, {8, 12});
  EXPECT_TRUE(has(c, "name"));
  EXPECT_TRUE(has(c, "port"));
  t = kMain;
  t.replace(t.find("print(svc.port);"), 16, "words.");
  ws.change(main, t);
  c = ws.complete(main, {8, 8});
  EXPECT_TRUE(has(c, "push"));
  EXPECT_TRUE(has(c, "join"));
}

TEST_F(LspEngine, DefinitionAcrossImports) {
  auto d = ws.definition(main, {6, 14}); // describe
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(fs::path(d[0].path).filename(), "lib.cfp");
  EXPECT_EQ(d[0].range.start.line, 2u);
  EXPECT_EQ(d[0].range.start.character, 3u);
  d = ws.definition(main, {6, 26}); // LIMIT
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].range.start.line, 1u);
}

TEST_F(LspEngine, DefinitionOfAStdImportIsTheStdlibModule) {
  fs::create_directories(dir / "mystd");
  std::ofstream(dir / "mystd" / "greet.cfp") << "fn greet() -> string {\n  return \"hi\";\n}\n";
  ::setenv("CFM_STDLIB", (dir / "mystd").c_str(), 1);
  std::string prog = (dir / "uses_std.cfp").string();
  ws.open(prog, "import \"std/greet.cfp\";\nprocedure main() {\n  print(greet());\n}\n");
  EXPECT_TRUE(ws.diagnose(prog)[prog].empty());
  auto d = ws.definition(prog, {0, 10}); // on the import line: the module in the stdlib folder
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, (dir / "mystd" / "greet.cfp").string());
  d = ws.definition(prog, {2, 9}); // greet: declared in the module
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, (dir / "mystd" / "greet.cfp").string());
  ::unsetenv("CFM_STDLIB");
}

TEST_F(LspEngine, ReferencesOfAVariable) {
  auto r = ws.references(main, {3, 7}); // svc: its declaration and two uses
  EXPECT_EQ(r.size(), 3u);
}

TEST_F(LspEngine, ReferencesInWorkspaceFilesThatAreNotOpen) {
  // other.cfp uses describe twice and is not open; noise.cfp mentions the name without importing
  // it; broken.cfp imports it but does not parse; hidden/ and node_modules/ are not looked at
  std::ofstream(dir / "other.cfp") << "import \"lib.cfp\";\nprocedure p() {\n"
                                      "  let s = Service { name: \"x\", port: 1 };\n"
                                      "  print(describe(s, 1));\n  print(describe(s, 2));\n}\n";
  std::ofstream(dir / "noise.cfp") << "// describe is a word here\nprocedure q() {\n  print(1);\n}\n";
  std::ofstream(dir / "broken.cfp") << "import \"lib.cfp\";\nprocedure r( {\n  describe(\n";
  for (const char *skipped : {".hidden", "node_modules"}) {
    fs::create_directories(dir / skipped);
    std::ofstream(dir / skipped / "x.cfp") << "import \"../lib.cfp\";\nprocedure x() {\n"
                                              "  print(describe(Service { name: \"\", port: 0 }, 0));\n}\n";
  }
  auto inFile = [](const std::vector<Location> &v, const char *name) {
    return std::count_if(v.begin(), v.end(),
                         [&](const Location &l) { return fs::path(l.path).filename() == name; });
  };
  auto r = ws.references(main, {6, 12}); // describe, used in main.cfp
  EXPECT_EQ(inFile(r, "other.cfp"), 0) << "no roots yet: only the open documents' programs";
  ws.setRoots({dir.string()});
  r = ws.references(main, {6, 12});
  EXPECT_EQ(inFile(r, "lib.cfp"), 1);   // the declaration
  EXPECT_EQ(inFile(r, "main.cfp"), 1);  // the open document's use
  EXPECT_EQ(inFile(r, "other.cfp"), 2); // both uses in the file that is not open
  EXPECT_EQ(inFile(r, "noise.cfp"), 0);
  EXPECT_EQ(inFile(r, "broken.cfp"), 0);
  EXPECT_EQ(inFile(r, "x.cfp"), 0);
  EXPECT_EQ(r.size(), 4u);
  // the file changes on disk: the next request sees it
  std::ofstream(dir / "other.cfp") << "import \"lib.cfp\";\nprocedure p() {\n"
                                      "  print(describe(Service { name: \"x\", port: 1 }, 1));\n}\n";
  r = ws.references(main, {6, 12});
  EXPECT_EQ(inFile(r, "other.cfp"), 1);
  // a local variable is not looked for elsewhere
  r = ws.references(main, {3, 7}); // svc
  EXPECT_EQ(r.size(), 3u);
}

TEST_F(LspEngine, SymbolsOfTheDocument) {
  auto s = ws.symbols(main);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].name, "LIMIT");
  EXPECT_EQ(s[2].name, "main");
  EXPECT_EQ(s[2].kind, ItemKind::Procedure);
}

TEST_F(LspEngine, SignatureHelpCountsArguments) {
  ws.diagnose(main); // a clean compilation first, as didOpen makes: a file with syntax errors
                     // may have no declarations, and the last good one answers
  std::string t = kMain;
  t.replace(t.find("print(svc.port);"), 16, "describe(svc, ");
  ws.change(main, t);
  auto s = ws.signature(main, {8, 16});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->activeParameter, 1);
  ASSERT_EQ(s->params.size(), 2u);
  EXPECT_EQ(s->params[1], "verbose: int");
  s = ws.signature(main, {6, 21}); // inside `describe(svc` in the loop
  ASSERT_TRUE(s);
  EXPECT_EQ(s->activeParameter, 0);
}

} // namespace

TEST_F(LspEngine, FormattingEditsTheChangedLinesOnly) {
  std::string path = (dir / "fmt.cfp").string();
  ws.open(path, "// head\nprocedure main() {\n      let x=1+2;\n  print(x);\n    let y=x;\n}");
  auto edits = ws.format(path);
  ASSERT_TRUE(edits.ok()) << edits.error().message;
  ASSERT_EQ(edits->size(), 2u);
  EXPECT_EQ((*edits)[0].range.start.line, 2u);
  EXPECT_EQ((*edits)[0].range.start.character, 0u);
  EXPECT_EQ((*edits)[0].range.end.line, 3u);
  EXPECT_EQ((*edits)[0].range.end.character, 0u);
  EXPECT_EQ((*edits)[0].newText, "  let x = 1 + 2;\n");
  // lines 4 and 5 change together; the last line has no newline: the edit ends at its end, and
  // the formatter adds one
  EXPECT_EQ((*edits)[1].range.start.line, 4u);
  EXPECT_EQ((*edits)[1].range.end.line, 5u);
  EXPECT_EQ((*edits)[1].range.end.character, 1u);
  EXPECT_EQ((*edits)[1].newText, "  let y = x;\n}\n");

  // range formatting: only the runs of changed lines that meet the range
  auto ranged = ws.format(path, std::make_pair(2u, 3u));
  ASSERT_TRUE(ranged.ok());
  ASSERT_EQ(ranged->size(), 1u);
  EXPECT_EQ((*ranged)[0].newText, "  let x = 1 + 2;\n");
  ranged = ws.format(path, std::make_pair(0u, 1u));
  ASSERT_TRUE(ranged.ok());
  EXPECT_TRUE(ranged->empty());

  ws.change(path, "procedure main() {\n  let x = 1 + 2;\n  print(x);\n}\n");
  auto none = ws.format(path);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(LspEngine, FormattingRefusesWhatDoesNotParse) {
  std::string path = (dir / "bad.cfp").string();
  ws.open(path, "procedure main() { let x = ; }\n");
  auto edits = ws.format(path);
  ASSERT_FALSE(edits.ok());
  EXPECT_EQ(edits.error().kind, cfm::ErrorKind::Syntax);
  EXPECT_NE(edits.error().message.find("bad.cfp:1:"), std::string::npos) << edits.error().message;
  auto closed = ws.format((dir / "closed.cfp").string());
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().kind, cfm::ErrorKind::Usage);
}

TEST_F(LspEngine, DescribeBuiltinsAndDeclarations) {
  auto print = ws.describe(main, "print");
  ASSERT_TRUE(print.has_value());
  EXPECT_NE(print->find("print("), std::string::npos) << *print;
  auto describe = ws.describe(main, "describe");
  ASSERT_TRUE(describe.has_value());
  EXPECT_NE(describe->find("fn describe(s: Service, verbose: int) -> string"), std::string::npos)
      << *describe;
  auto service = ws.describe(main, "Service");
  ASSERT_TRUE(service.has_value());
  EXPECT_NE(service->find("port: int"), std::string::npos) << *service;
  EXPECT_NE(service->find("The port a service listens on."), std::string::npos) << *service;
  EXPECT_FALSE(ws.describe(main, "nothing_here").has_value());
}

TEST_F(LspEngine, HoverAndScopesInsideAsyncBlocksAndTemplates) {
  // the one walker goes into async blocks and template bodies
  std::string path = (dir / "walk.cfp").string();
  ws.open(path,
          "template page(items: list<string>) \"\"\"{% for it in items %}{{ it }}{% end %}\"\"\"\n"
          "procedure main() {\n  let t = async {\n    let inner = 41;\n    print(inner + 1);\n  };\n}\n");
  auto h = ws.hover(path, {4, 11});
  ASSERT_TRUE(h.has_value());
  EXPECT_NE(h->text.find("inner: int"), std::string::npos) << h->text;
  auto c = ws.complete(path, {4, 4});
  EXPECT_TRUE(has(c, "inner"));
  auto tv = ws.hover(path, {0, 63});
  ASSERT_TRUE(tv.has_value());
  EXPECT_NE(tv->text.find("it: string"), std::string::npos) << tv->text;
}

TEST_F(LspEngine, CompletionInsideTemplateBodies) {
  std::string path = (dir / "tpl.cfp").string();
  std::string head = "record Svc { name: string, port: int }\n";
  std::string line = R"(template page(hosts: list<string>, svc: Svc) """{% for h in hosts %}{{ h)";
  // a template still being written: its parameters and the loop variable around the cursor
  ws.open(path, head + line);
  auto c = ws.complete(path, {1, static_cast<uint32_t>(line.size())});
  EXPECT_TRUE(has(c, "h"));
  EXPECT_TRUE(has(c, "hosts"));
  EXPECT_TRUE(has(c, "svc"));
  // a field of a parameter inside an unclosed `{{`
  std::string member = R"(template page(hosts: list<string>, svc: Svc) """{{ svc.)";
  ws.change(path, head + member);
  c = ws.complete(path, {1, static_cast<uint32_t>(member.size())});
  EXPECT_TRUE(has(c, "port"));
  EXPECT_TRUE(has(c, "name"));
  // a finished template: the loop variable inside the loop's body (not only on its tag)
  std::string done = R"(template page(hosts: list<string>) """{% for h in hosts %}{{ h }}{% end %}""")";
  ws.change(path, head + done);
  c = ws.complete(path, {1, static_cast<uint32_t>(done.find("{{ h") + 4)});
  EXPECT_TRUE(has(c, "h"));
  EXPECT_TRUE(has(c, "hosts"));
}
