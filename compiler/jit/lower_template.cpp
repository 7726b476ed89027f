// lower_template.cpp — a template's body (`template f(...) """..."""`) lowered: its output is a
// cfm_text (runtime/abi.h) in the frame, and consecutive text and `{{ }}` pieces form a run that
// is written in place — one capacity check for the whole run (cfm_text_reserve only when the
// buffer must grow), constant text and string values copied, ints formatted by the module's
// `cfm.tpl.int` — as the interpreter's TplRunNode appends its pieces in one loop. The buffer
// starts with the length of the template's previous output (a module global per template), so
// that a template rendered again does not grow it, and becomes the result string without a copy.
#include "jit/lower.h"

#include "runtime/abi.h"

#include <llvm/IR/MDBuilder.h>

namespace cfm::jit {

using sema::TypeKind;

namespace {
/// The most bytes an int takes in decimal: a sign and 19 digits (INT64_MIN).
constexpr int64_t kIntChars = 20;
} // namespace

/// `i64 cfm.tpl.int(ptr dst, i64 v)`: writes v in decimal at dst (as std::to_chars and the
/// interpreter's appendInt) and returns how many bytes it wrote, at most kIntChars.
llvm::Function *Lowerer::intChars() {
  if (intChars_) return intChars_;
  auto *f = llvm::Function::Create(llvm::FunctionType::get(i64_, {ptr_, i64_}, false),
                                   llvm::GlobalValue::InternalLinkage, "cfm.tpl.int", m_);
  f->setDoesNotThrow();
  intChars_ = f;
  llvm::IRBuilder<> b(ctx_);
  auto *entry = BB::Create(ctx_, "entry", f), *count = BB::Create(ctx_, "count", f);
  auto *countStep = BB::Create(ctx_, "count.step", f), *write = BB::Create(ctx_, "write", f);
  auto *digit = BB::Create(ctx_, "digit", f), *done = BB::Create(ctx_, "done", f);
  Value *dst = f->getArg(0), *v = f->getArg(1);
  b.SetInsertPoint(entry);
  // The magnitude as unsigned: 0 - INT64_MIN wraps to 2^63, which is right as unsigned.
  Value *neg = b.CreateICmpSLT(v, b.getInt64(0));
  Value *u = b.CreateSelect(neg, b.CreateSub(b.getInt64(0), v), v, "u");
  b.CreateBr(count);
  // n = the number of digits of u.
  b.SetInsertPoint(count);
  llvm::PHINode *n = b.CreatePHI(i64_, 2, "n"), *q = b.CreatePHI(i64_, 2, "q");
  n->addIncoming(b.getInt64(1), entry);
  q->addIncoming(u, entry);
  b.CreateCondBr(b.CreateICmpUGE(q, b.getInt64(10)), countStep, write);
  b.SetInsertPoint(countStep);
  n->addIncoming(b.CreateAdd(n, b.getInt64(1)), countStep);
  q->addIncoming(b.CreateUDiv(q, b.getInt64(10)), countStep);
  b.CreateBr(count);
  // The sign goes at dst unconditionally: without one, the first digit overwrites it.
  b.SetInsertPoint(write);
  b.CreateStore(b.getInt8('-'), dst);
  Value *total = b.CreateAdd(b.CreateZExt(neg, i64_), n, "total");
  Value *end = b.CreateInBoundsGEP(i8_, dst, total);
  b.CreateBr(digit);
  // The digits, last first.
  b.SetInsertPoint(digit);
  llvm::PHINode *p = b.CreatePHI(ptr_, 2, "p"), *x = b.CreatePHI(i64_, 2, "x");
  p->addIncoming(end, write);
  x->addIncoming(u, write);
  Value *at = b.CreateInBoundsGEP(i8_, p, b.getInt64(-1));
  Value *d = b.CreateTrunc(b.CreateURem(x, b.getInt64(10)), i8_);
  b.CreateStore(b.CreateAdd(d, b.getInt8('0')), at);
  Value *rest = b.CreateUDiv(x, b.getInt64(10));
  p->addIncoming(at, digit);
  x->addIncoming(rest, digit);
  b.CreateCondBr(b.CreateICmpNE(rest, b.getInt64(0)), digit, done);
  b.SetInsertPoint(done);
  b.CreateRet(total);
  return f;
}

/// The template's frame: its cfm_text, begun with room for the previous output's length.
void Lowerer::templateBegin(const sema::FnInfo &fi) {
  // Zeroed in the entry block, so that the error exit's cfm_text_drop is safe from the start.
  fn_.text = entryAlloca(llvm::ArrayType::get(i64_, CFM_TEXT_SIZE / 8), "text", true);
  fn_.textHint = new llvm::GlobalVariable(m_, i64_, false, llvm::GlobalValue::InternalLinkage, b_.getInt64(0),
                                          "tpl.hint." + fi.name);
  fn_.textHint->setAlignment(llvm::Align(8));
  // Tasks on other threads may render the same template: the hint is read and written
  // atomically (a plain move on x86), and any value it holds is only a size to start with.
  llvm::LoadInst *hint = b_.CreateLoad(i64_, fn_.textHint, "hint");
  hint->setAtomic(llvm::AtomicOrdering::Monotonic);
  hint->setAlignment(llvm::Align(8));
  b_.CreateCall(abi("cfm_text_init"), {fn_.text, hint});
}

/// The template's result: the text as a string (its length is the next render's hint).
Lowerer::Value *Lowerer::templateEnd() {
  Value *len = b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i8_, fn_.text, b_.getInt64(CFM_TEXT_LEN_OFFSET)));
  llvm::StoreInst *st = b_.CreateStore(len, fn_.textHint);
  st->setAtomic(llvm::AtomicOrdering::Monotonic);
  st->setAlignment(llvm::Align(8));
  return b_.CreateCall(abi("cfm_text_finish"), {fn_.text});
}

/// `{{ e }}` of a string or int read in place: a variable (or constant), or a field of a record
/// variable; null for any other expression. The value is borrowed — the variable holds it, and
/// nothing that could drop it runs before the run it joins is written.
llvm::Value *Lowerer::templateBorrow(const ast::Expr *e) {
  const sema::Type *t = vt(e);
  if (e->toJson || !(t->is(TypeKind::String) || t->is(TypeKind::Int))) return nullptr;
  auto load = [&](const ast::NameExpr *n) -> Value * {
    const sema::Type *nt = n->var->type;
    return n->var->kind == sema::VarKind::Const ? b_.CreateLoad(ty(nt), consts_.at(n->var), n->name)
                                                : b_.CreateLoad(ty(nt), local(n->var), n->name);
  };
  if (e->kind == ast::ExprKind::Name) return load(static_cast<const ast::NameExpr *>(e));
  if (e->kind != ast::ExprKind::Member) return nullptr;
  auto *m = static_cast<const ast::MemberExpr *>(e);
  if (m->base->kind != ast::ExprKind::Name || m->base->toJson || !m->base->type->is(TypeKind::Record))
    return nullptr;
  Value *rec = load(static_cast<const ast::NameExpr *>(m->base));
  int field = m->base->type->record->fieldIndex(m->name);
  return fromSlot(slotAt(rec, CFM_RECORD_FIELDS_OFFSET, b_.getInt64(static_cast<uint64_t>(field))), t);
}

/// A template's body: runs of text and values appended to its output, `{% for %}` and
/// `{% if %}` as the statements (interp's TplRunNode, ForNode, IfNode). A run ends before any
/// other node and before an expression that is not read in place (which then begins the next
/// run, its value owned until the run is written).
void Lowerer::templateBody(const ast::TplBody &body) {
  std::vector<TplPiece> run;
  for (const ast::TplNode *n : body) {
    if (run.empty() && b_.GetInsertBlock()->getTerminator()) continueDead();
    switch (n->kind) {
    case ast::TplKind::Text:
      if (n->text.empty()) break;
      if (!run.empty() && run.back().kind == TplPiece::Text)
        run.back().text += n->text;
      else
        run.push_back({TplPiece::Text, n->text, nullptr, false});
      break;
    case ast::TplKind::Expr: {
      const sema::Type *t = vt(n->expr);
      auto kind = t->is(TypeKind::String) ? TplPiece::Str : TplPiece::Int;
      if (Value *v = templateBorrow(n->expr)) {
        run.push_back({kind, {}, v, false});
        break;
      }
      templateRun(run);
      if (b_.GetInsertBlock()->getTerminator()) continueDead();
      Value *v = expr(n->expr);
      if (!n->expr->toJson && (t->is(TypeKind::String) || t->is(TypeKind::Int))) {
        run.push_back({kind, {}, v, true});
      } else {
        b_.CreateCall(abi("cfm_text_value"), {fn_.text, toSlot(v, t), typeDesc(t)});
        releaseIf(v, t);
      }
      break;
    }
    case ast::TplKind::For:
      templateRun(run);
      forLoop(n->head, [&] { templateBody(n->body); });
      break;
    case ast::TplKind::If: {
      templateRun(run);
      BB *end = block("tif.end");
      for (const auto &[cond, branch] : n->branches) {
        Value *c = expr(cond);
        BB *then = block("tif.then"), *next = block("tif.next");
        b_.CreateCondBr(c, then, next);
        b_.SetInsertPoint(then);
        templateBody(branch);
        if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(end);
        b_.SetInsertPoint(next);
      }
      if (n->hasElse) templateBody(n->elseBody);
      if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(end);
      b_.SetInsertPoint(end);
      break;
    }
    }
  }
  templateRun(run);
}

/// Writes a run at the end of the text: the room it needs at most (its text, its strings'
/// lengths, kIntChars per int) checked once, then each piece copied or formatted in place, and
/// the length stored once. Owned values are released after; the run is cleared.
void Lowerer::templateRun(std::vector<TplPiece> &run) {
  if (run.empty()) return;
  auto field = [&](int64_t offset) { return b_.CreateInBoundsGEP(i8_, fn_.text, b_.getInt64(offset)); };
  uint64_t fixed = 0;
  Value *need = nullptr;
  std::vector<Value *> lens(run.size(), nullptr);
  for (size_t i = 0; i < run.size(); ++i) {
    TplPiece &p = run[i];
    if (p.kind == TplPiece::Text) {
      fixed += p.text.size();
    } else if (p.kind == TplPiece::Int) {
      fixed += kIntChars;
    } else {
      lens[i] =
          b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i8_, p.v, b_.getInt64(CFM_STR_LEN_OFFSET)), "str.len");
      need = need ? b_.CreateAdd(need, lens[i], "", true, true) : lens[i];
    }
  }
  need = need ? b_.CreateAdd(need, b_.getInt64(fixed), "need", true, true) : b_.getInt64(fixed);
  Value *len = b_.CreateLoad(i64_, field(CFM_TEXT_LEN_OFFSET), "text.len");
  Value *cap = b_.CreateLoad(i64_, field(CFM_TEXT_CAP_OFFSET), "text.cap");
  BB *grow = block("text.grow"), *write = block("text.write");
  llvm::MDBuilder md(ctx_);
  b_.CreateCondBr(b_.CreateICmpUGT(need, b_.CreateSub(cap, len)), grow, write,
                  md.createUnlikelyBranchWeights());
  b_.SetInsertPoint(grow);
  b_.CreateCall(abi("cfm_text_reserve"), {fn_.text, need});
  b_.CreateBr(write);
  b_.SetInsertPoint(write);
  Value *data = b_.CreateLoad(ptr_, field(CFM_TEXT_DATA_OFFSET), "text.data");
  Value *off = len;
  for (size_t i = 0; i < run.size(); ++i) {
    TplPiece &p = run[i];
    Value *dst = b_.CreateInBoundsGEP(i8_, data, off);
    if (p.kind == TplPiece::Text) {
      Value *src = b_.CreateGlobalString(p.text, "tpl", 0, &m_);
      b_.CreateMemCpy(dst, llvm::MaybeAlign(1), src, llvm::MaybeAlign(1), p.text.size());
      off = b_.CreateAdd(off, b_.getInt64(p.text.size()), "", true, true);
    } else if (p.kind == TplPiece::Str) {
      Value *src = b_.CreateInBoundsGEP(i8_, p.v, b_.getInt64(CFM_STR_CHARS_OFFSET));
      b_.CreateMemCpy(dst, llvm::MaybeAlign(1), src, llvm::MaybeAlign(1), lens[i]);
      off = b_.CreateAdd(off, lens[i], "", true, true);
    } else {
      off = b_.CreateAdd(off, b_.CreateCall(intChars(), {dst, p.v}), "", true, true);
    }
  }
  b_.CreateStore(off, field(CFM_TEXT_LEN_OFFSET));
  for (TplPiece &p : run)
    if (p.owned && p.kind == TplPiece::Str) release(p.v);
  run.clear();
}

} // namespace cfm::jit
