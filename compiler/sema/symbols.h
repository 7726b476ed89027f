// symbols.h — what names resolve to: variables, functions and records (filled by the checker,
// read by the engines through the annotated AST).
#pragma once

#include "ast/ast.h"
#include "sema/types.h"

#include <string>
#include <vector>

namespace cfm::sema {

enum class VarKind { Let, Var, Param, Loop, Catch, Const };

struct Var {
  std::string name;
  const Type *type = nullptr;
  VarKind kind = VarKind::Let;
  int asyncLevel = 0; // how many async blocks deep it was declared (constants: -1)
  int slot = -1;      // frame slot, assigned by the checker per function
  support::Loc loc;
  bool mutableVar() const { return kind == VarKind::Var; }
};

struct FieldInfo {
  std::string name;
  const Type *type;
};

struct RecordInfo {
  std::string name;
  ast::RecordDecl *decl = nullptr;
  std::vector<FieldInfo> fields; // declaration order
  bool model = false;            // a model object type (prints as `Type(key)`, has methods)
  int fieldIndex(const std::string &n) const {
    for (size_t i = 0; i < fields.size(); ++i)
      if (fields[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

struct ParamInfo {
  std::string name;
  const Type *type;
  ast::Param *decl;
};

struct FnInfo {
  std::string name;
  ast::FnDecl *decl = nullptr;
  std::vector<ParamInfo> params;
  const Type *ret = nullptr;
  int frameSize = 0; // number of variable slots
  // Effects, for the engines' task lowering: it starts tasks, or it may suspend.
  bool waits = false;
  bool asyncs = false;
  std::vector<FnInfo *> calls;
};

} // namespace cfm::sema
