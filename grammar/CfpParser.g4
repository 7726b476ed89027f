// CfpParser.g4 — the syntax of the CFM procedure language (LANGUAGE.md "Declarations",
// "Statements", "Expressions", "Templates").
//
// The grammar is written for SLL prediction: every decision is settled within two tokens, except
// `async {` as a statement (one bounded ambiguity). Assignment is `expr (op expr)? ';'` and the
// parse adapter checks that the left side is a place. Template tags are parsed flat; the adapter
// pairs `{% for %}`/`{% if %}` with `{% end %}`. ANTLR types never leave compiler/parse.
parser grammar CfpParser;

options { tokenVocab = CfpLexer; }

@parser::members {
public:
  /// LANGUAGE.md "Precise rules": a record literal cannot stand directly in the head of `if`,
  /// `while` or `for` (wrap it in parentheses). `ID {` starts a record literal unless the
  /// nearest enclosing construct is such a head; brackets, parentheses, arguments, blocks and
  /// interpolations reopen the door.
  // Walks up from the parser's current context: during prediction the predicate's own context
  // argument is the caller's, so `_ctx` is the reliable starting point.
  bool recordAllowed() const {
    antlr4::RuleContext *ctx = _ctx;
    for (antlr4::RuleContext *c = ctx; c; c = dynamic_cast<antlr4::RuleContext *>(c->parent)) {
      switch (c->getRuleIndex()) {
      case RuleCond: return false;
      case RuleBlock: case RuleArg: case RuleFieldInit: case RuleMapEntry: case RuleStrPart:
      case RuleTplPart: case RuleTplTag: return true;
      case RulePrimary:
        if (c != ctx) return true; // a parenthesised expression or a list literal
        break;
      case RuleExpr:
        if (dynamic_cast<IndexExprContext *>(c)) return true;
        break;
      default: break;
      }
    }
    return true;
  }
}

file : decl* EOF ;

decl
  : importDecl
  | constDecl
  | recordDecl
  | fnDecl
  | templateDecl
  ;

importDecl   : IMPORT string SEMI ;
constDecl    : CONST ID (COLON type)? ASSIGN expr SEMI ;
recordDecl   : RECORD ID LBRACE (field (COMMA field)* COMMA?)? RBRACE ;
field        : ID COLON type ;
fnDecl       : (FN | PROCEDURE) ID params (ARROW type)? block ;
templateDecl : TEMPLATE ID params TPL_OPEN tplPart* TPL_CLOSE ;
params       : LPAREN (param (COMMA param)* COMMA?)? RPAREN ;
param        : ID COLON type (ASSIGN expr)? ;
type         : ID (LT type (COMMA type)* GT)? ;

tplPart
  : TPL_TEXT                              # tplText
  | TPL_EXPR_OPEN expr TPL_EXPR_CLOSE     # tplExpr
  | TPL_TAG_OPEN tplTag TAG_CLOSE         # tplTagPart
  ;

tplTag
  : FOR ID (COMMA ID)? IN expr (DOTDOT expr)?   # tagFor
  | IF expr                                     # tagIf
  | ELSE IF expr                                # tagElseIf
  | ELSE                                        # tagElse
  | ~(FOR | IF | ELSE | TAG_CLOSE) (~TAG_CLOSE)*  # tagWord
  ;

block : LBRACE stmt* RBRACE ;

stmt
  : (LET | VAR) ID (COLON type)? ASSIGN expr SEMI                           # letStmt
  | IF cond block (ELSE IF cond block)* (ELSE block)?                      # ifStmt
  | WHILE cond block                                                        # whileStmt
  | FOR ID (COMMA ID)? IN cond (DOTDOT cond)? block                        # forStmt
  | BREAK SEMI                                                              # breakStmt
  | CONTINUE SEMI                                                           # continueStmt
  | RETURN expr? SEMI                                                       # returnStmt
  | THROW expr SEMI                                                         # throwStmt
  | TRY block CATCH ID block                                                # tryStmt
  | ASYNC block SEMI?                                                       # asyncStmt
  | expr (aop=(ASSIGN | PLUS_ASSIGN | MINUS_ASSIGN | STAR_ASSIGN | SLASH_ASSIGN) expr)? SEMI  # exprStmt
  ;

cond : expr ;

// Precedence, highest first (LANGUAGE.md "Expressions").
expr
  : primary                                   # primaryExpr
  | expr DOT ID (LPAREN args RPAREN)?         # memberExpr
  | expr LPAREN args RPAREN                   # callExpr
  | expr LBRACK expr RBRACK                 # indexExpr
  | op=(MINUS | BANG) expr                    # unaryExpr
  | ASYNC expr                                # asyncExpr
  | expr op=(STAR | SLASH | PERCENT) expr        # binaryExpr
  | expr op=(PLUS | MINUS) expr                  # binaryExpr
  | expr op=(LT | LE | GT | GE) expr             # binaryExpr
  | expr op=(EQ | NE) expr                       # binaryExpr
  | expr op=AND expr                           # binaryExpr
  | expr op=OR expr                            # binaryExpr
  ;

args : (arg (COMMA arg)* COMMA?)? ;
arg  : (ID COLON)? expr ;

primary
  : INT_LIT                                                          # intLit
  | FLOAT_LIT                                                        # floatLit
  | DURATION_LIT                                                     # durationLit
  | (TRUE_LIT | FALSE_LIT)                                                   # boolLit
  | NULL_LIT                                                           # nullLit
  | string                                                           # stringLit
  | {recordAllowed()}? ID LBRACE (fieldInit (COMMA fieldInit)* COMMA?)? RBRACE  # recordLit
  | ID                                                               # nameExpr
  | LPAREN expr RPAREN                                             # parenExpr
  | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK                   # listLit
  | LBRACE (mapEntry (COMMA mapEntry)* COMMA?)? RBRACE               # mapLit
  | ASYNC block                                                      # asyncBlock
  ;

fieldInit : ID COLON expr ;
mapEntry  : expr COLON expr ;

string
  : STR_OPEN strPart* STR_CLOSE
  | TSTR_OPEN strPart* TSTR_CLOSE
  ;

strPart
  : STR_TEXT                        # strText
  | TSTR_TEXT                       # strText
  | STR_ESC                         # strEscape
  | TSTR_ESC                        # strEscape
  | STR_UESC                        # strUnicode
  | INTERP_OPEN expr INTERP_CLOSE   # strInterp
  ;
