// compile.cpp — checked AST → interpreter nodes. Every choice that depends on static types is
// made here, once: which operator node, which slot, which runtime type descriptor.
#include "interp/exprs.h"

#include "base/sanitizers.h"

namespace cfm::interp {

using namespace rt;
using sema::TypeKind;

namespace {

/// An unboxed constant.
struct ScalarConst final : ENode {
  Slot value;
  ScalarConst(const TypeDesc *t, support::Loc l, Slot v) : ENode(t, l), value(v) {}
  bool eval(Frame &, Slot &out) override {
    out = value;
    return true;
  }
};

/// An unboxed local variable (int, float, bool, duration): no reference to take.
struct ScalarLocal final : ENode {
  int slot;
  ScalarLocal(const TypeDesc *t, support::Loc l, int s) : ENode(t, l), slot(s) {}
  bool eval(Frame &f, Slot &out) override {
    out = f.slots[slot];
    return true;
  }
};

/// Integer (and duration, bool) operators without the generic dispatch: the hot path of loops
/// and recursive functions.
template <typename F> struct IntBin final : ENode {
  EPtr lhs, rhs;
  IntBin(const TypeDesc *t, support::Loc l, EPtr a, EPtr b)
      : ENode(t, l), lhs(std::move(a)), rhs(std::move(b)) {}
  bool eval(Frame &f, Slot &out) override {
    Slot a, b;
    if (!lhs->eval(f, a) || !rhs->eval(f, b)) return false;
    if (!F::apply(a.i, b.i, out.i)) return failAt(f, loc);
    return true;
  }
};
struct AddI {
  static bool apply(int64_t a, int64_t b, int64_t &o) {
    return __builtin_add_overflow(a, b, &o) ? addInt(a, b, o) : true;
  }
};
struct SubI {
  static bool apply(int64_t a, int64_t b, int64_t &o) {
    return __builtin_sub_overflow(a, b, &o) ? subInt(a, b, o) : true;
  }
};
struct MulI {
  static bool apply(int64_t a, int64_t b, int64_t &o) {
    return __builtin_mul_overflow(a, b, &o) ? mulInt(a, b, o) : true;
  }
};
struct ModI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return modInt(a, b, o); }
};
struct DivI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return divInt(a, b, o); }
};
struct LtI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return o = a < b, true; }
};
struct LeI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return o = a <= b, true; }
};
struct GtI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return o = a > b, true; }
};
struct GeI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return o = a >= b, true; }
};
struct EqI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return o = a == b, true; }
};
struct NeI {
  static bool apply(int64_t a, int64_t b, int64_t &o) { return o = a != b, true; }
};

/// `local op constant` and `local op local`: the operands are read directly, without a virtual
/// call each (`n < 2`, `n - 1`, `i * i`).
template <typename F> struct IntBinLC final : ENode {
  int slot;
  int64_t k;
  IntBinLC(const TypeDesc *t, support::Loc l, int s, int64_t c) : ENode(t, l), slot(s), k(c) {}
  bool eval(Frame &f, Slot &out) override {
    if (!F::apply(f.slots[slot].i, k, out.i)) return failAt(f, loc);
    return true;
  }
};
template <typename F> struct IntBinLL final : ENode {
  int a, b;
  IntBinLL(const TypeDesc *t, support::Loc l, int x, int y) : ENode(t, l), a(x), b(y) {}
  bool eval(Frame &f, Slot &out) override {
    if (!F::apply(f.slots[a].i, f.slots[b].i, out.i)) return failAt(f, loc);
    return true;
  }
};

/// `expression op constant` (`i * i % 7`).
template <typename F> struct IntBinXC final : ENode {
  EPtr lhs;
  int64_t k;
  IntBinXC(const TypeDesc *t, support::Loc l, EPtr a, int64_t c) : ENode(t, l), lhs(std::move(a)), k(c) {}
  bool eval(Frame &f, Slot &out) override {
    Slot a;
    if (!lhs->eval(f, a)) return false;
    if (!F::apply(a.i, k, out.i)) return failAt(f, loc);
    return true;
  }
};

template <typename F> EPtr makeIntBin(const TypeDesc *t, support::Loc loc, EPtr &l, EPtr &r) {
  auto *ll = dynamic_cast<ScalarLocal *>(l.get());
  auto *rc = dynamic_cast<ScalarConst *>(r.get());
  if (ll) {
    if (rc) return std::make_unique<IntBinLC<F>>(t, loc, ll->slot, rc->value.i);
    if (auto *rl = dynamic_cast<ScalarLocal *>(r.get()))
      return std::make_unique<IntBinLL<F>>(t, loc, ll->slot, rl->slot);
  }
  if (rc) return std::make_unique<IntBinXC<F>>(t, loc, std::move(l), rc->value.i);
  return std::make_unique<IntBin<F>>(t, loc, std::move(l), std::move(r));
}

/// `if c { ... }` with no else: the guard at the top of most functions.
struct IfOnlyNode final : SNode {
  EPtr cond;
  BlockNode body;
  using SNode::SNode;
  Flow exec(Frame &f) override {
    Slot c;
    if (!cond->eval(f, c)) return Flow::Error;
    return c.i ? body.run(f) : Flow::Normal;
  }
};

/// `x op= e` on an int (or duration) local: the loop counter and accumulator case.
template <typename F> struct LocalIntCompound final : SNode {
  int slot;
  EPtr value;
  LocalIntCompound(support::Loc l, int s, EPtr v) : SNode(l), slot(s), value(std::move(v)) {}
  Flow exec(Frame &f) override {
    Slot v;
    if (!value->eval(f, v)) return Flow::Error;
    int64_t r; // the variable keeps its value when the operation fails
    if (!F::apply(f.slots[slot].i, v.i, r)) {
      failAt(f, loc);
      return Flow::Error;
    }
    f.slots[slot].i = r;
    return Flow::Normal;
  }
};

EPtr fastIntBinary(BinaryNode::Op op, const TypeDesc *t, support::Loc loc, EPtr &l, EPtr &r) {
  using Op = BinaryNode::Op;
  switch (op) {
  case Op::AddInt: return makeIntBin<AddI>(t, loc, l, r);
  case Op::SubInt: return makeIntBin<SubI>(t, loc, l, r);
  case Op::MulInt: return makeIntBin<MulI>(t, loc, l, r);
  case Op::DivInt: return makeIntBin<DivI>(t, loc, l, r);
  case Op::ModInt: return makeIntBin<ModI>(t, loc, l, r);
  case Op::LtInt: return makeIntBin<LtI>(t, loc, l, r);
  case Op::LeInt: return makeIntBin<LeI>(t, loc, l, r);
  case Op::GtInt: return makeIntBin<GtI>(t, loc, l, r);
  case Op::GeInt: return makeIntBin<GeI>(t, loc, l, r);
  case Op::EqScalar: return makeIntBin<EqI>(t, loc, l, r);
  case Op::NeScalar: return makeIntBin<NeI>(t, loc, l, r);
  default: return nullptr;
  }
}

class Compiler {
public:
  Compiler(const sema::Program &sp, Program &p) : sp_(sp), p_(p) {}
  std::string why; // set when the program uses what this engine cannot run yet

  void function(const sema::FnInfo &fi) {
    FnCode &fc = *p_.fns.at(&fi);
    fc.name = fi.name;
    fc.ret = ty(fi.ret);
    fc.frameSize = fi.frameSize;
    fc.slotTypes.assign(static_cast<size_t>(fi.frameSize), ty(sp_.types.voidT));
    fc.isTemplate = fi.decl->fnKind == ast::FnKind::Template;
    fc.isProcedure = fi.decl->fnKind == ast::FnKind::Procedure;
    for (const sema::ParamInfo &pi : fi.params) {
      fc.paramTypes.push_back(ty(pi.type));
      fc.paramSlots.push_back(pi.decl->var->slot);
      slotType(fc, pi.decl->var);
    }
    cur_ = &fc;
    if (fc.isTemplate)
      template_(fi.decl->tplBody, fc.body);
    else
      for (ast::Stmt *s : fi.decl->body) fc.body.push_back(stmt(s));
  }

  void defaults(const sema::FnInfo &fi) {
    FnCode &fc = *p_.fns.at(&fi);
    for (const sema::ParamInfo &pi : fi.params)
      fc.defaults.push_back(pi.decl->defaultValue ? expr(pi.decl->defaultValue) : nullptr);
  }

  EPtr expr(ast::Expr *e);

private:
  const sema::Program &sp_;
  Program &p_;
  FnCode *cur_ = nullptr;

  const TypeDesc *ty(const sema::Type *t) { return p_.types.get(t); }
  void slotType(FnCode &fc, const sema::Var *v) {
    if (v && v->slot >= 0 && static_cast<size_t>(v->slot) < fc.slotTypes.size())
      fc.slotTypes[static_cast<size_t>(v->slot)] = ty(v->type);
  }
  void unsupported(const std::string &what) {
    if (why.empty()) why = what;
  }

  EPtr exprRaw(ast::Expr *e);
  std::unique_ptr<Place> place(ast::Expr *e);
  SPtr stmt(ast::Stmt *s);
  SPtr stmtRaw(ast::Stmt *s);
  /// Tracks how deep the nodes of the function being compiled nest: their eval recursion is
  /// what a call needs of the machine stack besides the frame.
  int nest_ = 0;
  struct Nesting {
    Compiler &c;
    explicit Nesting(Compiler &cc) : c(cc) {
      if (++c.nest_ > (c.cur_ ? c.cur_->maxNest : 0) && c.cur_) c.cur_->maxNest = c.nest_;
    }
    ~Nesting() { --c.nest_; }
  };
  BlockNode block(const ast::Block &b) {
    BlockNode n;
    for (ast::Stmt *s : b) n.stmts.push_back(stmt(s));
    return n;
  }
  void template_(const ast::TplBody &body, std::vector<SPtr> &out);
  TplRunNode::Piece tplPiece(ast::TplNode *n);
  SPtr forNode(const ast::ForHead &h, support::Loc loc, BlockNode body);
  EPtr call(ast::CallExpr *c);
  EPtr method(ast::MethodCallExpr *m);
  EPtr apiCall(ast::CallExpr *c, std::vector<std::pair<int, EPtr>> written);
  EPtr binary(ast::BinaryExpr *b);
};

EPtr Compiler::expr(ast::Expr *e) {
  Nesting in(*this);
  EPtr n = exprRaw(e);
  if (e->toJson && e->type != sp_.types.jsonT)
    return std::make_unique<ToJsonNode>(ty(sp_.types.jsonT), std::move(n));
  return n;
}

EPtr Compiler::exprRaw(ast::Expr *e) {
  const TypeDesc *t = ty(e->type);
  support::Loc l = e->loc();
  switch (e->kind) {
  case ast::ExprKind::Int:
    return std::make_unique<ScalarConst>(t, l, Slot{.i = static_cast<ast::IntLit *>(e)->value});
  case ast::ExprKind::Duration:
    return std::make_unique<ScalarConst>(t, l, Slot{.i = static_cast<ast::DurationLit *>(e)->ms});
  case ast::ExprKind::Bool:
    return std::make_unique<ScalarConst>(t, l, Slot{.i = static_cast<ast::BoolLit *>(e)->value});
  case ast::ExprKind::Float:
    return std::make_unique<ScalarConst>(t, l, Slot{.f = static_cast<ast::FloatLit *>(e)->value});
  case ast::ExprKind::Null: return std::make_unique<NullNode>(ty(sp_.types.jsonT), l);
  case ast::ExprKind::String: {
    auto *s = static_cast<ast::StringLit *>(e);
    if (s->parts.size() == 1 && !s->parts[0].expr)
      return std::make_unique<ConstNode>(t, l, Slot{.o = newStr(s->parts[0].text)});
    auto n = std::make_unique<StringNode>(t, l);
    for (ast::StrPart &p : s->parts) n->parts.push_back({p.text, p.expr ? expr(p.expr) : nullptr});
    return n;
  }
  case ast::ExprKind::Name: {
    auto *ne = static_cast<ast::NameExpr *>(e);
    if (ne->var->kind == sema::VarKind::Const)
      return std::make_unique<GlobalGet>(t, l, p_.globalIndex.at(ne->var));
    if (!t->boxed()) return std::make_unique<ScalarLocal>(t, l, ne->var->slot);
    return std::make_unique<LocalGet>(t, l, ne->var->slot);
  }
  case ast::ExprKind::List: {
    auto *le = static_cast<ast::ListLit *>(e);
    if (le->jsonLiteral) {
      auto n = std::make_unique<JsonArrayNode>(t, l);
      for (ast::Expr *x : le->elems) n->elems.push_back(expr(x));
      return n;
    }
    auto n = std::make_unique<ListNode>(t, l);
    for (ast::Expr *x : le->elems) n->elems.push_back(expr(x));
    return n;
  }
  case ast::ExprKind::Map: {
    auto *me = static_cast<ast::MapLit *>(e);
    if (me->jsonLiteral) {
      auto n = std::make_unique<JsonObjectNode>(t, l);
      for (auto &en : me->entries) n->entries.emplace_back(expr(en.key), expr(en.value));
      return n;
    }
    auto n = std::make_unique<MapNode>(t, l);
    for (auto &en : me->entries) n->entries.emplace_back(expr(en.key), expr(en.value));
    return n;
  }
  case ast::ExprKind::Record: {
    auto *re = static_cast<ast::RecordLit *>(e);
    auto n = std::make_unique<RecordNode>(t, l);
    for (auto &fi : re->fields) n->fields.emplace_back(re->record->fieldIndex(fi.name), expr(fi.value));
    return n;
  }
  case ast::ExprKind::Unary: {
    auto *u = static_cast<ast::UnaryExpr *>(e);
    UnaryNode::Op op = u->op == '!'                           ? UnaryNode::Op::Not
                       : u->operand->type == sp_.types.floatT ? UnaryNode::Op::NegFloat
                                                              : UnaryNode::Op::NegInt;
    return std::make_unique<UnaryNode>(t, l, op, expr(u->operand));
  }
  case ast::ExprKind::Binary: return binary(static_cast<ast::BinaryExpr *>(e));
  case ast::ExprKind::Index: {
    auto *ix = static_cast<ast::IndexExpr *>(e);
    const sema::Type *bt = ix->base->type;
    IndexNode::Kind k = bt->is(TypeKind::List)                 ? IndexNode::Kind::List
                        : bt->is(TypeKind::Map)                ? IndexNode::Kind::Map
                        : ix->index->type == sp_.types.stringT ? IndexNode::Kind::JsonKey
                                                               : IndexNode::Kind::JsonInt;
    return std::make_unique<IndexNode>(t, ix->bracketLoc, k, expr(ix->base), expr(ix->index));
  }
  case ast::ExprKind::Member: {
    auto *m = static_cast<ast::MemberExpr *>(e);
    if (m->base->type == sp_.types.errorValueT)
      return std::make_unique<FieldNode>(t, m->nameLoc, expr(m->base),
                                         m->name == "kind"      ? 0
                                         : m->name == "message" ? 1
                                                                : 2,
                                         true);
    return std::make_unique<FieldNode>(t, m->nameLoc, expr(m->base),
                                       m->base->type->record->fieldIndex(m->name), false);
  }
  case ast::ExprKind::Call: return call(static_cast<ast::CallExpr *>(e));
  case ast::ExprKind::MethodCall: return method(static_cast<ast::MethodCallExpr *>(e));
  case ast::ExprKind::AsyncCall: {
    ast::CallExpr *c = static_cast<ast::AsyncCallExpr *>(e)->call;
    if (c->fn) {
      std::vector<std::pair<int, EPtr>> written;
      std::vector<int> defaulted;
      for (int idx : c->evalOrder) written.emplace_back(idx, expr(c->boundArgs[static_cast<size_t>(idx)]));
      for (size_t i = 0; i < c->boundArgs.size(); ++i)
        if (!c->boundArgs[i]) defaulted.push_back(static_cast<int>(i));
      return makeAsyncCall(t, l, p_.fns.at(c->fn).get(), std::move(written), std::move(defaulted));
    }
    // A built-in: its arguments now, the call in the task (reading them from slots 0..n-1).
    std::vector<EPtr> args, reads;
    for (size_t i = 0; i < c->args.size(); ++i) {
      args.push_back(expr(c->args[i].value));
      const TypeDesc *at = args.back()->type;
      if (at->boxed())
        reads.push_back(std::make_unique<LocalGet>(at, args.back()->loc, static_cast<int>(i)));
      else
        reads.push_back(std::make_unique<ScalarLocal>(at, args.back()->loc, static_cast<int>(i)));
    }
    if (c->builtin == ast::Builtin::Wait) { // `async wait(t)`, `async wait(ts, timeout: d)`
      EPtr target, timeout;
      for (size_t i = 0; i < c->args.size(); ++i)
        (c->args[i].name.empty() ? target : timeout) = std::move(reads[i]);
      bool list = target->type->kind == Kind::List;
      EPtr call = makeWait(ty(c->type), c->loc(), std::move(target), std::move(timeout), list);
      return makeAsyncBuiltin(t, l, std::move(args), std::move(call));
    }
    if (ast::apiSignature(c->builtin)) {
      std::vector<std::pair<int, EPtr>> written;
      for (size_t i = 0; i < reads.size(); ++i) written.emplace_back(c->evalOrder[i], std::move(reads[i]));
      return makeAsyncBuiltin(t, l, std::move(args), apiCall(c, std::move(written)));
    }
    auto call = std::make_unique<BuiltinNode>(ty(c->type), c->loc(), c->builtin);
    call->args = std::move(reads);
    return makeAsyncBuiltin(t, l, std::move(args), std::move(call));
  }
  case ast::ExprKind::AsyncBlock: {
    auto *ab = static_cast<ast::AsyncBlockExpr *>(e);
    std::vector<int> slots;
    std::vector<const TypeDesc *> types;
    for (const sema::Var *v : ab->captures) {
      slots.push_back(v->slot);
      types.push_back(ty(v->type));
    }
    return makeAsyncBlock(t, l, cur_, std::move(slots), std::move(types), block(ab->body));
  }
  }
  return std::make_unique<NullNode>(t, l);
}

EPtr Compiler::binary(ast::BinaryExpr *b) {
  using Op = BinaryNode::Op;
  const TypeDesc *t = ty(b->type);
  const sema::Type *lt = b->lhs->type, *rt = b->rhs->type;
  const auto &T = sp_.types;
  bool isFloat = lt == T.floatT;
  bool isStr = lt == T.stringT;
  bool scalar = lt == T.intT || lt == T.durationT || lt == T.boolT;
  Op op = Op::Eq;
  switch (b->op) {
  case ast::BinOp::And: op = Op::And; break;
  case ast::BinOp::Or: op = Op::Or; break;
  case ast::BinOp::Add:
    op = isFloat ? Op::AddFloat : isStr ? Op::Concat : lt->is(TypeKind::List) ? Op::ListConcat : Op::AddInt;
    break;
  case ast::BinOp::Sub: op = isFloat ? Op::SubFloat : Op::SubInt; break;
  case ast::BinOp::Mul: op = isFloat ? Op::MulFloat : Op::MulInt; break;
  case ast::BinOp::Div: op = isFloat ? Op::DivFloat : Op::DivInt; break;
  case ast::BinOp::Mod: op = isFloat ? Op::ModFloat : Op::ModInt; break;
  case ast::BinOp::Lt: op = isFloat ? Op::LtFloat : isStr ? Op::LtStr : Op::LtInt; break;
  case ast::BinOp::Le: op = isFloat ? Op::LeFloat : isStr ? Op::LeStr : Op::LeInt; break;
  case ast::BinOp::Gt: op = isFloat ? Op::GtFloat : isStr ? Op::GtStr : Op::GtInt; break;
  case ast::BinOp::Ge: op = isFloat ? Op::GeFloat : isStr ? Op::GeStr : Op::GeInt; break;
  case ast::BinOp::Eq: op = isFloat ? Op::EqFloat : scalar ? Op::EqScalar : Op::Eq; break;
  case ast::BinOp::Ne: op = isFloat ? Op::NeFloat : scalar ? Op::NeScalar : Op::Ne; break;
  }
  (void)rt;
  EPtr l = expr(b->lhs), r = expr(b->rhs);
  if (EPtr fast = fastIntBinary(op, t, b->opLoc, l, r)) return fast;
  // json == null: the null side is a json value; compare as json.
  return std::make_unique<BinaryNode>(t, b->opLoc, op, std::move(l), std::move(r));
}

EPtr Compiler::call(ast::CallExpr *c) {
  const TypeDesc *t = ty(c->type);
  if (c->fn) {
    auto n = std::make_unique<CallNode>(t, c->loc());
    n->fn = p_.fns.at(c->fn).get();
    for (int idx : c->evalOrder) n->written.emplace_back(idx, expr(c->boundArgs[static_cast<size_t>(idx)]));
    for (size_t i = 0; i < c->boundArgs.size(); ++i)
      if (!c->boundArgs[i]) n->defaulted.push_back(static_cast<int>(i));
    return n;
  }
  if (c->builtin == ast::Builtin::Wait) {
    ast::Expr *target = nullptr;
    for (ast::Arg &a : c->args)
      if (a.name.empty()) target = a.value;
    bool list = target->type->is(TypeKind::List);
    return makeWait(t, c->loc(), expr(target), c->timeout ? expr(c->timeout) : nullptr, list);
  }
  if (ast::apiSignature(c->builtin)) {
    std::vector<std::pair<int, EPtr>> written;
    for (int idx : c->evalOrder) written.emplace_back(idx, expr(c->boundArgs[static_cast<size_t>(idx)]));
    return apiCall(c, std::move(written));
  }
  auto n = std::make_unique<BuiltinNode>(t, c->loc(), c->builtin);
  for (ast::Arg &a : c->args) n->args.push_back(expr(a.value));
  return n;
}

/// A procedure API call: the arguments `written` (evaluated in the order given), then constant
/// nodes for the defaults of the parameters the call leaves out.
EPtr Compiler::apiCall(ast::CallExpr *c, std::vector<std::pair<int, EPtr>> written) {
  const ast::ApiSignature &sig = *ast::apiSignature(c->builtin);
  auto n = std::make_unique<ApiNode>(ty(c->type), c->loc(), c->builtin);
  n->args = std::move(written);
  for (size_t i = 0; i < sig.params.size(); ++i) {
    const ast::ApiParam &p = sig.params[i];
    if (c->boundArgs[i]) continue;
    Slot v{0};
    const sema::Type *pt = sp_.types.stringT;
    if (p.defaultText)
      v.o = newStr(p.defaultText);
    else if (p.defaultEmpty) // the empty map or json null: a null reference (api.h)
      pt = p.type == ast::ApiType::Json ? sp_.types.jsonT
                                        : sp_.types.map(sp_.types.stringT, sp_.types.stringT);
    else {
      v.i = p.defaultInt;
      pt = p.type == ast::ApiType::Int ? sp_.types.intT : sp_.types.durationT;
    }
    n->args.emplace_back(static_cast<int>(i), std::make_unique<ConstNode>(ty(pt), c->loc(), v));
  }
  for (auto &[idx, e] : n->args) n->paramTypes[idx] = e->type;
  return n;
}

EPtr Compiler::method(ast::MethodCallExpr *m) {
  const TypeDesc *t = ty(m->type);
  auto n = std::make_unique<BuiltinNode>(t, m->nameLoc, m->method);
  using B = ast::Builtin;
  if (m->method == B::ListPush || m->method == B::ListPop || m->method == B::MapRemove) {
    n->place = place(m->receiver);
  } else {
    n->args.push_back(expr(m->receiver));
  }
  for (ast::Arg &a : m->args) n->args.push_back(expr(a.value));
  const sema::Type *rt = m->receiver->type;
  if (m->method == B::MapKeys)
    n->auxType = ty(sp_.types.list(rt->a));
  else if (m->method == B::MapValues)
    n->auxType = ty(sp_.types.list(rt->b));
  else if (m->method == B::ModelInstancesOf)
    n->auxType = ty(m->type);
  else if (m->method == B::StrSplit)
    n->auxType = ty(sp_.types.list(sp_.types.stringT));
  return n;
}

std::unique_ptr<Place> Compiler::place(ast::Expr *e) {
  auto p = std::make_unique<Place>();
  p->type = ty(e->type);
  std::vector<ast::Expr *> chain;
  while (e->kind == ast::ExprKind::Index || e->kind == ast::ExprKind::Member) {
    chain.push_back(e);
    e = e->kind == ast::ExprKind::Index ? static_cast<ast::IndexExpr *>(e)->base
                                        : static_cast<ast::MemberExpr *>(e)->base;
  }
  auto *root = static_cast<ast::NameExpr *>(e);
  p->rootSlot = root->var->slot;
  p->rootType = ty(root->var->type);
  for (size_t i = chain.size(); i-- > 0;) {
    ast::Expr *x = chain[i];
    Place::Part part;
    if (x->kind == ast::ExprKind::Index) {
      auto *ix = static_cast<ast::IndexExpr *>(x);
      part.step = ix->base->type->is(TypeKind::List) ? Place::Step::ListIndex : Place::Step::MapKey;
      part.index = expr(ix->index);
      part.container = ty(ix->base->type);
      part.loc = ix->bracketLoc;
    } else {
      auto *mx = static_cast<ast::MemberExpr *>(x);
      part.step = Place::Step::Field;
      part.field = mx->base->type->record->fieldIndex(mx->name);
      part.container = ty(mx->base->type);
      part.loc = mx->nameLoc;
    }
    p->parts.push_back(std::move(part));
  }
  return p;
}

SPtr Compiler::forNode(const ast::ForHead &h, support::Loc loc, BlockNode body) {
  auto n = std::make_unique<ForNode>(loc);
  n->form = h.form;
  n->iter = expr(h.iter);
  if (h.end) n->end = expr(h.end);
  n->slot1 = h.v1->slot;
  n->t1 = ty(h.v1->type);
  slotType(*cur_, h.v1);
  if (h.v2) {
    n->slot2 = h.v2->slot;
    n->t2 = ty(h.v2->type);
    slotType(*cur_, h.v2);
  }
  n->body = std::move(body);
  return n;
}

SPtr Compiler::stmt(ast::Stmt *s) {
  Nesting in(*this);
  return stmtRaw(s);
}

SPtr Compiler::stmtRaw(ast::Stmt *s) {
  support::Loc l = s->loc();
  switch (s->kind) {
  case ast::StmtKind::Let: {
    auto *ls = static_cast<ast::LetStmt *>(s);
    slotType(*cur_, ls->var);
    return std::make_unique<LetNode>(l, ls->var->slot, ty(ls->var->type), expr(ls->init));
  }
  case ast::StmtKind::Assign: {
    auto *as = static_cast<ast::AssignStmt *>(s);
    const sema::Type *tt = as->target->type;
    bool intLocal = (tt == sp_.types.intT || tt == sp_.types.durationT) &&
                    as->target->kind == ast::ExprKind::Name &&
                    static_cast<ast::NameExpr *>(as->target)->var->kind != sema::VarKind::Const;
    if (as->op != '=' && intLocal) {
      int slot = static_cast<ast::NameExpr *>(as->target)->var->slot;
      EPtr v = expr(as->value);
      switch (as->op) {
      case '+': return std::make_unique<LocalIntCompound<AddI>>(as->opLoc, slot, std::move(v));
      case '-': return std::make_unique<LocalIntCompound<SubI>>(as->opLoc, slot, std::move(v));
      case '*': return std::make_unique<LocalIntCompound<MulI>>(as->opLoc, slot, std::move(v));
      default: return std::make_unique<LocalIntCompound<DivI>>(as->opLoc, slot, std::move(v));
      }
    }
    auto n = std::make_unique<AssignNode>(as->opLoc);
    n->target = place(as->target);
    n->value = expr(as->value);
    if (as->op != '=') {
      n->compound = true;
      const sema::Type *tt = as->target->type;
      bool f = tt == sp_.types.floatT;
      using Op = BinaryNode::Op;
      Op op = Op::AddInt;
      switch (as->op) {
      case '+':
        op = f                         ? Op::AddFloat
             : tt == sp_.types.stringT ? Op::Concat
             : tt->is(TypeKind::List)  ? Op::ListConcat
                                       : Op::AddInt;
        break;
      case '-': op = f ? Op::SubFloat : Op::SubInt; break;
      case '*': op = f ? Op::MulFloat : Op::MulInt; break;
      default: op = f ? Op::DivFloat : Op::DivInt; break;
      }
      n->op = static_cast<int>(op);
    }
    return n;
  }
  case ast::StmtKind::Expr:
    return std::make_unique<ExprStmtNode>(l, expr(static_cast<ast::ExprStmt *>(s)->expr));
  case ast::StmtKind::If: {
    auto *is = static_cast<ast::IfStmt *>(s);
    if (is->branches.size() == 1 && !is->hasElse) {
      auto n = std::make_unique<IfOnlyNode>(l);
      n->cond = expr(is->branches[0].cond);
      n->body = block(is->branches[0].body);
      return n;
    }
    auto n = std::make_unique<IfNode>(l);
    for (auto &br : is->branches) n->branches.emplace_back(expr(br.cond), block(br.body));
    if (is->hasElse) n->elseBody = block(is->elseBody);
    return n;
  }
  case ast::StmtKind::While: {
    auto *ws = static_cast<ast::WhileStmt *>(s);
    auto n = std::make_unique<WhileNode>(l);
    n->cond = expr(ws->cond);
    n->body = block(ws->body);
    return n;
  }
  case ast::StmtKind::For: {
    auto *fs = static_cast<ast::ForStmt *>(s);
    return forNode(fs->head, l, block(fs->body));
  }
  case ast::StmtKind::Break: return std::make_unique<JumpNode>(l, Flow::Break);
  case ast::StmtKind::Continue: return std::make_unique<JumpNode>(l, Flow::Continue);
  case ast::StmtKind::Return: {
    auto *rs = static_cast<ast::ReturnStmt *>(s);
    return std::make_unique<ReturnNode>(l, rs->value ? expr(rs->value) : nullptr);
  }
  case ast::StmtKind::Throw:
    return std::make_unique<ThrowNode>(l, expr(static_cast<ast::ThrowStmt *>(s)->value));
  case ast::StmtKind::Try: {
    auto *ts = static_cast<ast::TryStmt *>(s);
    slotType(*cur_, ts->errVar);
    auto n = std::make_unique<TryNode>(l, ts->errVar->slot);
    n->body = block(ts->body);
    n->handler = block(ts->handler);
    return n;
  }
  }
  return nullptr;
}

TplRunNode::Piece Compiler::tplPiece(ast::TplNode *n) {
  using Op = TplRunNode::Op;
  TplRunNode::Piece p;
  if (n->kind == ast::TplKind::Text) {
    p.text = n->text;
    return p;
  }
  EPtr e = expr(n->expr);
  const Kind k = e->type->kind;
  if (k == Kind::String || k == Kind::Int) {
    if (auto *local = dynamic_cast<LocalGet *>(e.get())) {
      p.op = k == Kind::String ? Op::LocalStr : Op::LocalInt;
      p.slot = local->slot;
      return p;
    }
    if (auto *field = dynamic_cast<FieldNode *>(e.get()); field && !field->errorField)
      if (auto *local = dynamic_cast<LocalGet *>(field->base.get())) {
        p.op = k == Kind::String ? Op::FieldStr : Op::FieldInt;
        p.slot = local->slot;
        p.field = field->field;
        return p;
      }
  }
  p.op = Op::Expr;
  p.expr = std::move(e);
  return p;
}

void Compiler::template_(const ast::TplBody &body, std::vector<SPtr> &out) {
  for (ast::TplNode *n : body) {
    switch (n->kind) {
    case ast::TplKind::Text:
    case ast::TplKind::Expr: {
      // Consecutive text and `{{ }}` pieces share one TplRunNode.
      auto *run = out.empty() ? nullptr : dynamic_cast<TplRunNode *>(out.back().get());
      if (!run) {
        out.push_back(std::make_unique<TplRunNode>(n->range.begin));
        run = static_cast<TplRunNode *>(out.back().get());
      }
      run->pieces.push_back(tplPiece(n));
      break;
    }
    case ast::TplKind::For: {
      BlockNode b;
      template_(n->body, b.stmts);
      out.push_back(forNode(n->head, n->range.begin, std::move(b)));
      break;
    }
    case ast::TplKind::If: {
      auto in = std::make_unique<IfNode>(n->range.begin);
      for (auto &br : n->branches) {
        BlockNode b;
        template_(br.second, b.stmts);
        in->branches.emplace_back(expr(br.first), std::move(b));
      }
      if (n->hasElse) template_(n->elseBody, in->elseBody.stmts);
      out.push_back(std::move(in));
      break;
    }
    }
  }
}

} // namespace

// Machine stack per call (runFrame, CallNode) and per level of node nesting, measured with
// deep recursion and long operator chains (tests/conformance/tasks/*stack*), with room to spare.
#ifdef CFM_ASAN
constexpr size_t kCallBytes = 4096, kNodeBytes = 1024;
#else
constexpr size_t kCallBytes = 1024, kNodeBytes = 256;
#endif

bool compileProgram(const sema::Program &sp, Program &p, std::string &why) {
  p.stringType = p.types.get(sp.types.stringT);
  p.errorType = p.types.get(sp.types.errorValueT);
  for (const sema::FnInfo &fi : sp.functions) p.fns[&fi] = std::make_unique<FnCode>();
  for (size_t i = 0; i < sp.constOrder.size(); ++i)
    p.globalIndex[sp.constOrder[i]->var] = static_cast<int>(i);
  Compiler c(sp, p);
  for (const sema::FnInfo &fi : sp.functions) c.function(fi);
  for (const sema::FnInfo &fi : sp.functions) c.defaults(fi);
  for (auto &[info, fc] : p.fns) {
    for (size_t i = 0; i < fc->slotTypes.size(); ++i)
      if (fc->slotTypes[i]->boxed()) fc->boxedSlots.push_back(static_cast<int>(i));
    fc->stackNeed = static_cast<size_t>(fc->frameSize) * sizeof(Slot) + kCallBytes +
                    static_cast<size_t>(fc->maxNest) * kNodeBytes;
  }
  why = c.why;
  return why.empty();
}

/// Constants, evaluated in order before the procedure runs.
bool evalConstants(const sema::Program &sp, Program &p, support::Loc &where) {
  Compiler c(sp, p);
  Frame f{nullptr, &p};
  for (ast::ConstDecl *cd : sp.constOrder) {
    EPtr n = c.expr(cd->init);
    Slot v;
    if (!n->eval(f, v)) {
      where = cd->nameLoc;
      return false;
    }
    p.globals.push_back(v);
    p.globalTypes.push_back(p.types.get(cd->var->type));
  }
  return true;
}

} // namespace cfm::interp
