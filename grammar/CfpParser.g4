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

// Labels name what compiler/parse/build_ast.cpp reads: an element label (`init=expr`,
// `items+=arg`) becomes a field of the rule's context, an alternative label (`# letStmt`) its own
// context class. build_ast reads nothing by position, so reordering or adding elements keeps the
// meaning; a renamed or removed label fails to compile.
file : decls+=decl* EOF ;

decl
  : imp=importDecl
  | cnst=constDecl
  | rec=recordDecl
  | fn=fnDecl
  | tpl=templateDecl
  ;

importDecl   : IMPORT path=string SEMI ;
constDecl    : CONST name=ID (COLON annot=type)? ASSIGN init=expr SEMI ;
recordDecl   : RECORD name=ID LBRACE (fields+=field (COMMA fields+=field)* COMMA?)? RBRACE ;
field        : name=ID COLON ftype=type ;
fnDecl       : kw=(FN | PROCEDURE) name=ID sig=params (ARROW ret=type)? body=block ;
templateDecl : TEMPLATE name=ID sig=params TPL_OPEN parts+=tplPart* close=TPL_CLOSE ;
params       : LPAREN (items+=param (COMMA items+=param)* COMMA?)? RPAREN ;
param        : name=ID COLON ptype=type (ASSIGN dflt=expr)? ;
type         : name=ID (LT targs+=type (COMMA targs+=type)* GT)? ;

// tplPart and strPart have no alternative labels: with labels the parser makes two contexts for
// every part (the rule's, then the alternative's), and strings and template bodies are mostly
// parts. build_ast tells the alternatives apart by which label is set and by the chunk's type.
tplPart
  : chunk=TPL_TEXT
  | TPL_EXPR_OPEN value=expr TPL_EXPR_CLOSE
  | TPL_TAG_OPEN tag=tplTag TAG_CLOSE
  ;

tplTag
  : FOR var1=ID (COMMA var2=ID)? IN iter=expr (DOTDOT iterEnd=expr)?   # tagFor
  | IF test=expr                                                       # tagIf
  | ELSE IF test=expr                                                  # tagElseIf
  | ELSE                                                               # tagElse
  | word=~(FOR | IF | ELSE | TAG_CLOSE) (rest+=~TAG_CLOSE)*             # tagWord
  ;

block : LBRACE stmts+=stmt* close=RBRACE ;

stmt
  : kw=(LET | VAR) name=ID (COLON annot=type)? ASSIGN init=expr SEMI                      # letStmt
  | IF tests+=cond bodies+=block (ELSE IF tests+=cond bodies+=block)* (ELSE elseBody=block)?  # ifStmt
  | WHILE test=cond body=block                                                          # whileStmt
  | FOR var1=ID (COMMA var2=ID)? IN iter=cond (DOTDOT iterEnd=cond)? body=block         # forStmt
  | BREAK SEMI                                                                          # breakStmt
  | CONTINUE SEMI                                                                       # continueStmt
  | RETURN value=expr? SEMI                                                             # returnStmt
  | THROW value=expr SEMI                                                               # throwStmt
  | TRY body=block CATCH errName=ID handler=block                                       # tryStmt
  | ASYNC body=block SEMI?                                                              # asyncStmt
  | lhs=expr (aop=(ASSIGN | PLUS_ASSIGN | MINUS_ASSIGN | STAR_ASSIGN | SLASH_ASSIGN) rhs=expr)? SEMI  # exprStmt
  ;

cond : value=expr ;

// Precedence, highest first (LANGUAGE.md "Expressions").
expr
  : atom=primary                                                # primaryExpr
  | target=expr DOT name=ID (LPAREN callArgs=args RPAREN)?      # memberExpr
  | target=expr open=LPAREN callArgs=args RPAREN                # callExpr
  | target=expr open=LBRACK subscript=expr RBRACK               # indexExpr
  | op=(MINUS | BANG) operand=expr                              # unaryExpr
  | kw=ASYNC operand=expr                                       # asyncExpr
  | lhs=expr op=(STAR | SLASH | PERCENT) rhs=expr               # binaryExpr
  | lhs=expr op=(PLUS | MINUS) rhs=expr                         # binaryExpr
  | lhs=expr op=(LT | LE | GT | GE) rhs=expr                    # binaryExpr
  | lhs=expr op=(EQ | NE) rhs=expr                              # binaryExpr
  | lhs=expr op=AND rhs=expr                                    # binaryExpr
  | lhs=expr op=OR rhs=expr                                     # binaryExpr
  ;

args : (items+=arg (COMMA items+=arg)* COMMA?)? ;
arg  : (name=ID COLON)? value=expr ;

primary
  : lit=INT_LIT                                                                         # intLit
  | lit=FLOAT_LIT                                                                       # floatLit
  | lit=DURATION_LIT                                                                    # durationLit
  | lit=(TRUE_LIT | FALSE_LIT)                                                          # boolLit
  | NULL_LIT                                                                            # nullLit
  | str=string                                                                          # stringLit
  | {recordAllowed()}? name=ID LBRACE (inits+=fieldInit (COMMA inits+=fieldInit)* COMMA?)? RBRACE  # recordLit
  | name=ID                                                                             # nameExpr
  | LPAREN inner=expr RPAREN                                                            # parenExpr
  | LBRACK (elems+=expr (COMMA elems+=expr)* COMMA?)? RBRACK                            # listLit
  | LBRACE (entries+=mapEntry (COMMA entries+=mapEntry)* COMMA?)? RBRACE                # mapLit
  | ASYNC body=block                                                                    # asyncBlock
  ;

fieldInit : name=ID COLON value=expr ;
mapEntry  : key=expr COLON value=expr ;

string
  : open=STR_OPEN parts+=strPart* STR_CLOSE
  | open=TSTR_OPEN parts+=strPart* TSTR_CLOSE
  ;

strPart
  : chunk=STR_TEXT
  | chunk=TSTR_TEXT
  | chunk=STR_ESC
  | chunk=TSTR_ESC
  | chunk=STR_UESC
  | INTERP_OPEN value=expr INTERP_CLOSE
  ;
