// test_support.h — helpers for the front-end unit tests: compile source text, find declarations,
// and list diagnostics as "line:col: message" strings.
#pragma once

#include "frontend/frontend.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cfm::testing {

inline std::unique_ptr<frontend::Compilation> compile(const std::string &text) {
  std::unique_ptr<frontend::Compilation> c;
  frontend::runWithLargeStack([&] { c = frontend::compileText("test.cfp", text); });
  return c;
}

inline std::vector<std::string> messages(const frontend::Compilation &c) {
  std::vector<std::string> out;
  for (const auto &d : c.diags.sorted())
    out.push_back(std::to_string(d.range.begin.line) + ":" + std::to_string(d.range.begin.col) + ": " +
                  d.message);
  return out;
}

inline ast::FnDecl *function(const frontend::Compilation &c, const std::string &name) {
  for (const auto &m : c.modules)
    for (ast::Decl *d : m->decls)
      if (d->kind == ast::DeclKind::Fn && d->name == name) return static_cast<ast::FnDecl *>(d);
  return nullptr;
}

/// The initialiser of the n-th `let`/`var` statement of function `fn`.
inline ast::Expr *letInit(const frontend::Compilation &c, const std::string &fn, size_t n = 0) {
  ast::FnDecl *f = function(c, fn);
  if (!f) return nullptr;
  for (ast::Stmt *s : f->body)
    if (s->kind == ast::StmtKind::Let && n-- == 0) return static_cast<ast::LetStmt *>(s)->init;
  return nullptr;
}

} // namespace cfm::testing
