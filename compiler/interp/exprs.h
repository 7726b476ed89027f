// exprs.h — the interpreter's expression and statement node classes (exprs.cpp, calls.cpp,
// stmts.cpp implement them; compile.cpp builds them).
#pragma once

#include "interp/program.h"

namespace cfm::interp {

struct ConstNode : ENode {
  Slot value; // owned when boxed
  ConstNode(const TypeDesc *t, support::Loc l, Slot v) : ENode(t, l), value(v) {}
  ~ConstNode() override;
  bool eval(Frame &f, Slot &out) override;
};
struct LocalGet : ENode {
  int slot;
  bool boxed;
  LocalGet(const TypeDesc *t, support::Loc l, int s) : ENode(t, l), slot(s), boxed(t->boxed()) {}
  bool eval(Frame &f, Slot &out) override;
  const Slot *borrow(Frame &f) override { return &f.slots[slot]; }
};
struct GlobalGet : ENode {
  int index;
  GlobalGet(const TypeDesc *t, support::Loc l, int i) : ENode(t, l), index(i) {}
  bool eval(Frame &f, Slot &out) override;
};
struct NullNode : ENode {
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct ToJsonNode : ENode {
  EPtr inner;
  ToJsonNode(const TypeDesc *t, EPtr e) : ENode(t, e->loc), inner(std::move(e)) {}
  bool eval(Frame &f, Slot &out) override;
};
struct StringNode : ENode {
  struct Part {
    std::string text;
    EPtr expr;
  };
  std::vector<Part> parts;
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct ListNode : ENode {
  std::vector<EPtr> elems;
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct JsonArrayNode : ENode {
  std::vector<EPtr> elems; // each gives a json
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct MapNode : ENode {
  std::vector<std::pair<EPtr, EPtr>> entries;
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct JsonObjectNode : ENode {
  std::vector<std::pair<EPtr, EPtr>> entries; // string keys, json values
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct RecordNode : ENode {
  std::vector<std::pair<int, EPtr>> fields; // as written
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
struct UnaryNode : ENode {
  enum class Op { NegInt, NegFloat, Not } op;
  EPtr operand;
  UnaryNode(const TypeDesc *t, support::Loc l, Op o, EPtr e) : ENode(t, l), op(o), operand(std::move(e)) {}
  bool eval(Frame &f, Slot &out) override;
};
struct BinaryNode : ENode {
  enum class Op {
    And,
    Or,
    AddInt,
    SubInt,
    MulInt,
    DivInt,
    ModInt,
    AddFloat,
    SubFloat,
    MulFloat,
    DivFloat,
    ModFloat,
    LtInt,
    LeInt,
    GtInt,
    GeInt,
    LtFloat,
    LeFloat,
    GtFloat,
    GeFloat,
    LtStr,
    LeStr,
    GtStr,
    GeStr,
    EqScalar,
    NeScalar,
    EqFloat,
    NeFloat,
    Eq,
    Ne,
    Concat,
    ListConcat
  } op;
  EPtr lhs, rhs;
  BinaryNode(const TypeDesc *t, support::Loc l, Op o, EPtr a, EPtr b)
      : ENode(t, l), op(o), lhs(std::move(a)), rhs(std::move(b)) {}
  bool eval(Frame &f, Slot &out) override;
  /// `a op b` for an arithmetic or comparison op (not And/Or); borrows a and b.
  static bool apply(Op op, Slot a, Slot b, const TypeDesc *operandType, Slot &out);
};
struct IndexNode : ENode {
  enum class Kind { List, Map, JsonKey, JsonInt } kind;
  EPtr base, index;
  IndexNode(const TypeDesc *t, support::Loc l, Kind k, EPtr b, EPtr i)
      : ENode(t, l), kind(k), base(std::move(b)), index(std::move(i)) {}
  bool eval(Frame &f, Slot &out) override;
};
struct FieldNode : ENode {
  EPtr base;
  int field;
  bool errorField; // err.kind (0) / err.message (1) / err.code (2)
  FieldNode(const TypeDesc *t, support::Loc l, EPtr b, int fi, bool err)
      : ENode(t, l), base(std::move(b)), field(fi), errorField(err) {}
  bool eval(Frame &f, Slot &out) override;
  const Slot *borrow(Frame &f) override;
};
/// A call of a user function, template or procedure.
struct CallNode : ENode {
  FnCode *fn = nullptr;
  std::vector<std::pair<int, EPtr>> written; // (parameter, argument) in the order written
  std::vector<int> defaulted;                // parameters that take their default
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};
/// A built-in function or method (ast/builtins.def), with its arguments.
struct BuiltinNode : ENode {
  ast::Builtin which;
  std::vector<EPtr> args;
  std::unique_ptr<Place> place;      // the receiver of push, pop and remove
  const TypeDesc *auxType = nullptr; // list<K>/list<V> for keys()/values(), list<string> for split()
  BuiltinNode(const TypeDesc *t, support::Loc l, ast::Builtin b) : ENode(t, l), which(b) {}
  bool eval(Frame &f, Slot &out) override;
};

/// A procedure API call (API.md "Cloud"; ast::apiSignature): its arguments as written, then the
/// defaults the call leaves out (constants), each into its parameter's place; the runtime's
/// model/api.h does the rest through the manager (which may suspend the task).
struct ApiNode : ENode {
  static constexpr size_t kMaxParams = 4;
  ast::Builtin which;
  std::vector<std::pair<int, EPtr>> args; // (parameter, argument or default) in evaluation order
  const TypeDesc *paramTypes[kMaxParams] = {};
  ApiNode(const TypeDesc *t, support::Loc l, ast::Builtin b) : ENode(t, l), which(b) {}
  bool eval(Frame &f, Slot &out) override;
};

// ---- model objects' methods (model.cpp) ----
bool modelMethod(Frame &f, support::Loc loc, ast::Builtin which, Slot *v, const TypeDesc *resultType,
                 Slot &out);

// ---- tasks (tasks.cpp) ----
EPtr makeAsyncCall(const TypeDesc *t, support::Loc l, FnCode *fn, std::vector<std::pair<int, EPtr>> written,
                   std::vector<int> defaulted);
EPtr makeAsyncBuiltin(const TypeDesc *t, support::Loc l, std::vector<EPtr> argExprs, EPtr call);
struct BlockNode;
EPtr makeAsyncBlock(const TypeDesc *t, support::Loc l, FnCode *enclosing, std::vector<int> capSlots,
                    std::vector<const TypeDesc *> capTypes, BlockNode body);
EPtr makeWait(const TypeDesc *t, support::Loc l, EPtr target, EPtr timeout, bool list);

// ---- statements ----
struct LetNode : SNode {
  int slot;
  const TypeDesc *type;
  EPtr init;
  LetNode(support::Loc l, int s, const TypeDesc *t, EPtr e)
      : SNode(l), slot(s), type(t), init(std::move(e)) {}
  Flow exec(Frame &f) override;
};
struct AssignNode : SNode {
  std::unique_ptr<Place> target;
  EPtr value;
  bool compound = false; // `target op= value` is `target = target op value`, indexes once
  int op = 0;            // BinaryNode::Op of a compound assignment
  explicit AssignNode(support::Loc l) : SNode(l) {}
  Flow exec(Frame &f) override;
};
struct ExprStmtNode : SNode {
  EPtr expr;
  ExprStmtNode(support::Loc l, EPtr e) : SNode(l), expr(std::move(e)) {}
  Flow exec(Frame &f) override;
};
struct BlockNode {
  std::vector<SPtr> stmts;
  Flow run(Frame &f) {
    for (SPtr &s : stmts) {
      Flow fl = s->exec(f);
      if (fl != Flow::Normal) return fl;
    }
    return Flow::Normal;
  }
};
struct IfNode : SNode {
  std::vector<std::pair<EPtr, BlockNode>> branches;
  BlockNode elseBody;
  using SNode::SNode;
  Flow exec(Frame &f) override;
};
struct WhileNode : SNode {
  EPtr cond;
  BlockNode body;
  using SNode::SNode;
  Flow exec(Frame &f) override;
};
struct ForNode : SNode {
  ast::ForForm form;
  EPtr iter, end;
  int slot1 = -1, slot2 = -1;
  const TypeDesc *t1 = nullptr, *t2 = nullptr;
  BlockNode body;
  using SNode::SNode;
  Flow exec(Frame &f) override;
};
struct JumpNode : SNode {
  Flow flow;
  JumpNode(support::Loc l, Flow fl) : SNode(l), flow(fl) {}
  Flow exec(Frame &) override { return flow; }
};
struct ReturnNode : SNode {
  EPtr value;
  ReturnNode(support::Loc l, EPtr v) : SNode(l), value(std::move(v)) {}
  Flow exec(Frame &f) override;
};
struct ThrowNode : SNode {
  EPtr value;
  ThrowNode(support::Loc l, EPtr v) : SNode(l), value(std::move(v)) {}
  Flow exec(Frame &f) override;
};
struct TryNode : SNode {
  BlockNode body, handler;
  int errSlot;
  TryNode(support::Loc l, int s) : SNode(l), errSlot(s) {}
  Flow exec(Frame &f) override;
};
/// A run of template text and `{{ expr }}` pieces in one node: a loop over the pieces instead of
/// a virtual call each, and a local string or int, or a string or int field of a local record
/// (`{{ s.address }}` in a loop over servers), read in place with no call at all. Other
/// expressions are evaluated (or borrowed) and their text appended.
struct TplRunNode : SNode {
  enum class Op : uint8_t { Text, LocalStr, LocalInt, FieldStr, FieldInt, Expr };
  struct Piece {
    Op op = Op::Text;
    int slot = 0;
    int field = 0;
    std::string text; // Op::Text
    EPtr expr;        // Op::Expr
  };
  std::vector<Piece> pieces;
  explicit TplRunNode(support::Loc l) : SNode(l) {}
  Flow exec(Frame &f) override;
};

/// The index values of a place, evaluated once, left to right (LANGUAGE.md "Precise rules"), and
/// released when the holder goes out of scope, whichever way the statement ends.
class PlaceKeys {
public:
  explicit PlaceKeys(Place &p) : p_(p), keys_(p.parts.size(), Slot{0}) {}
  PlaceKeys(const PlaceKeys &) = delete;
  PlaceKeys &operator=(const PlaceKeys &) = delete;
  ~PlaceKeys() {
    for (size_t i = 0; i < p_.parts.size(); ++i)
      if (p_.parts[i].index) releaseSlot(keys_[i], p_.parts[i].index->type);
  }
  /// False when an index failed (the error is pending; what was evaluated is still released).
  bool eval(Frame &f) {
    for (size_t i = 0; i < p_.parts.size(); ++i)
      if (p_.parts[i].index && !p_.parts[i].index->eval(f, keys_[i])) return false;
    return true;
  }
  std::vector<Slot> &keys() { return keys_; }

private:
  Place &p_;
  std::vector<Slot> keys_;
};

/// Walks a place to the slot it names, making containers unique on the way (copy on write).
/// `create` lets a final map step insert a missing key (plain assignment).
bool resolvePlace(Frame &f, Place &p, std::vector<Slot> &keys, Slot *&slot, bool create);

} // namespace cfm::interp
