// CfpLexer.g4 — the lexer of the CFM procedure language (LANGUAGE.md "Lexical").
//
// Modes, not post-processing: DEFAULT_MODE is code; STR is the inside of "..." strings, TSTR of
// """...""" strings, TPL of a template body. `${` (in STR/TSTR), `{{` and `{%` (in TPL) push
// DEFAULT_MODE; the matching `}`, `}}` or `%}` pops back. A small context stack (members below)
// tells which closer ends which push, so `{` `}` of map literals nest inside interpolations and
// template expressions. Lexical errors go to `onError` (the parse adapter turns them into
// diagnostics); the lexer always recovers with a well-formed token stream.
lexer grammar CfpLexer;

tokens { TPL_OPEN, INTERP_CLOSE }

@lexer::header {
#include <functional>
#include <string>
#include <vector>
}

@lexer::members {
public:
  /// Lexical error codes; the parse adapter maps them to diagnostic kinds.
  enum LexError {
    LE_UnterminatedString, LE_UnterminatedTemplate, LE_UnterminatedInterp, LE_UnterminatedTplPart,
    LE_UnterminatedComment, LE_UnknownEscape, LE_BadUnicodeEscape, LE_BadUnicodeScalar,
    LE_BadNumberSuffix, LE_NoDigits, LE_UnexpectedChar
  };
  /// (code, line, column from 1, the offending text).
  std::function<void(int, size_t, size_t, const std::string &)> onError;
  /// True once the lexer reported an unterminated construct at end of input.
  bool unterminatedAtEof = false;

  void reset() override {
    ctx_.clear();
    pendingTemplate_ = false;
    parenDepth_ = 0;
    unterminatedAtEof = false;
    antlr4::Lexer::reset();
  }

  std::unique_ptr<antlr4::Token> nextToken() override {
    std::unique_ptr<antlr4::Token> t = antlr4::Lexer::nextToken();
    if (pendingTemplate_) punct(t->getType());
    if (t->getType() == antlr4::Token::EOF && !ctx_.empty()) endOfInputInside();
    return t;
  }

private:
  enum OpenKind { Brace, Interp, TplExpr, TplTag, Str, TStr, Tpl };
  struct Open { OpenKind kind; size_t line, col; std::string text; };
  std::vector<Open> ctx_;
  bool pendingTemplate_ = false;
  int parenDepth_ = 0;

  /// End of input inside a string, template or interpolation: report the innermost open one
  /// where it opened (an open `{` of code is the parser's to report).
  void endOfInputInside() {
    for (size_t i = ctx_.size(); i-- > 0;) {
      const Open &o = ctx_[i];
      if (o.kind == Brace) continue;
      unterminatedAtEof = true;
      report(o.kind == Str || o.kind == TStr ? LE_UnterminatedString
             : o.kind == Tpl                 ? LE_UnterminatedTemplate
             : o.kind == Interp              ? LE_UnterminatedInterp
                                             : LE_UnterminatedTplPart,
             o.line, o.col, o.text);
      break;
    }
    ctx_.clear();
  }

  void report(int code, size_t line, size_t col, const std::string &text) {
    if (onError) onError(code, line, col, text);
  }
  void open(OpenKind k) {
    ctx_.push_back(Open{k, tokenStartLine, tokenStartCharPositionInLine + 1, getText()});
  }
  bool top(OpenKind k) const { return !ctx_.empty() && ctx_.back().kind == k; }
  // Only a `{` opened in code (or a braces-free context) reports unterminated at EOF when it is
  // the outermost open construct; the parser reports a missing `}` itself.
  void closeBrace() {
    if (top(Brace)) { ctx_.pop_back(); popMode(); }
    else if (top(Interp)) { ctx_.pop_back(); popMode(); setType(INTERP_CLOSE); }
  }
  void startString() { open(Str); pushMode(STR); }
  void startTriple() {
    if (pendingTemplate_ && parenDepth_ == 0) {
      pendingTemplate_ = false;
      open(Tpl);
      setType(TPL_OPEN);
      pushMode(TPL);
    } else {
      open(TStr);
      pushMode(TSTR);
    }
  }
  void endLiteral() { if (!ctx_.empty()) ctx_.pop_back(); popMode(); }
  void newlineInString() {
    // A "..." string cannot hold a raw newline: report it at the string's start and close it.
    if (!ctx_.empty()) {
      report(LE_UnterminatedString, ctx_.back().line, ctx_.back().col, "");
      ctx_.pop_back();
    }
    setType(STR_CLOSE);
    popMode();
  }
  void checkUnicodeEscape() {
    std::string t = getText();  // \u{XXXX}
    std::string digits = t.substr(3, t.size() - 4);
    size_t col = tokenStartCharPositionInLine + 1;
    if (digits.empty() || digits.size() > 6) { report(LE_BadUnicodeEscape, tokenStartLine, col, t); return; }
    unsigned long cp = std::stoul(digits, nullptr, 16);
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) report(LE_BadUnicodeScalar, tokenStartLine, col, t);
  }
  void lexError(int code) { report(code, tokenStartLine, tokenStartCharPositionInLine + 1, getText()); }
  // Between `template` and its body: the body's `"""` is the first one outside parentheses.
  // Tracked here rather than in rule actions, which would slow down every `(`, `)` and `;`.
  void punct(size_t type) {
    if (type == LPAREN) ++parenDepth_;
    else if (type == RPAREN) --parenDepth_;
    else if (type == SEMI || type == LBRACE || type == RBRACE) pendingTemplate_ = false;
  }
public:
  bool atTplExpr() const { return top(TplExpr); }
  bool atTplTag() const { return top(TplTag); }
}

// ---- code (DEFAULT_MODE) ----

WS            : [ \t\r\n\f]+ -> skip ;
LINE_COMMENT  : '//' ~[\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
OPEN_COMMENT  : '/*' (~[*] | '*'+ ~[*/])* '*'* EOF { lexError(LE_UnterminatedComment); unterminatedAtEof = true; } -> skip ;

FN        : 'fn' ;
PROCEDURE : 'procedure' ;
TEMPLATE  : 'template' { pendingTemplate_ = true; parenDepth_ = 0; } ;
RECORD    : 'record' ;
IMPORT    : 'import' ;
CONST     : 'const' ;
LET       : 'let' ;
VAR       : 'var' ;
IF        : 'if' ;
ELSE      : 'else' ;
WHILE     : 'while' ;
FOR       : 'for' ;
IN        : 'in' ;
BREAK     : 'break' ;
CONTINUE  : 'continue' ;
RETURN    : 'return' ;
ASYNC     : 'async' ;
TRY       : 'try' ;
CATCH     : 'catch' ;
THROW     : 'throw' ;
TRUE_LIT  : 'true' ;
FALSE_LIT : 'false' ;
NULL_LIT  : 'null' ;

// Numbers. A number directly followed by a unit is a duration; followed by any other identifier
// characters it is an error (BAD_NUMBER, reported and then treated as an integer).
DURATION_LIT : (DEC | DEC '.' DEC EXP? | DEC EXP) ('ms' | 's' | 'm' | 'h') ;
FLOAT_LIT    : DEC '.' DEC EXP? | DEC EXP ;
INT_LIT      : DEC | '0' [xX] '_'* [0-9a-fA-F] [0-9a-fA-F_]* | '0' [oO] '_'* [0-7] [0-7_]* | '0' [bB] '_'* [01] [01_]* ;
BAD_NUMBER   : (DEC ('.' DEC)? | '0' [xXoObB] [0-9a-fA-F_]*) [A-Za-z_] [A-Za-z0-9_]* { lexError(LE_BadNumberSuffix); setType(INT_LIT); } ;
fragment DEC : [0-9] [0-9_]* ;
fragment EXP : [eE] [+-]? [0-9] [0-9_]* ;

ARROW        : '->' ;
DOTDOT       : '..' ;
EQ           : '==' ;
NE           : '!=' ;
LE           : '<=' ;
GE           : '>=' ;
AND          : '&&' ;
OR           : '||' ;
PLUS_ASSIGN  : '+=' ;
MINUS_ASSIGN : '-=' ;
STAR_ASSIGN  : '*=' ;
SLASH_ASSIGN : '/=' ;
TPL_EXPR_CLOSE : '}}' { atTplExpr() }? { ctx_.pop_back(); popMode(); } ;
TAG_CLOSE      : '%}' { atTplTag() }? { ctx_.pop_back(); popMode(); } ;
LPAREN    : '(' ;
RPAREN    : ')' ;
LBRACK    : '[' ;
RBRACK    : ']' ;
LBRACE    : '{' { open(Brace); pushMode(DEFAULT_MODE); } ;
RBRACE    : '}' { closeBrace(); } ;
COMMA     : ',' ;
SEMI      : ';' ;
COLON     : ':' ;
DOT       : '.' ;
LT        : '<' ;
GT        : '>' ;
PLUS      : '+' ;
MINUS     : '-' ;
STAR      : '*' ;
SLASH     : '/' ;
PERCENT   : '%' ;
BANG      : '!' ;
ASSIGN    : '=' ;

TSTR_OPEN : '"""' { startTriple(); } ;
STR_OPEN  : '"' { startString(); } ;

ID        : [A-Za-z_] [A-Za-z0-9_]* ;

BAD_CHAR  : . { lexError(LE_UnexpectedChar); } -> skip ;

// ---- inside "..." ----
mode STR;
STR_CLOSE    : '"' { endLiteral(); } ;
STR_TEXT     : ~["\\$\n]+ ;
STR_ESC      : '\\' [ntr"\\$] ;
STR_UESC     : '\\u{' [0-9a-fA-F]* '}' { checkUnicodeEscape(); } ;
STR_BAD_UESC : '\\u' { lexError(LE_BadUnicodeEscape); } -> type(STR_TEXT) ;
STR_BAD_ESC  : '\\' ~[ntr"\\$u\n] { lexError(LE_UnknownEscape); } -> type(STR_TEXT) ;
STR_LONE_BS  : '\\' { lexError(LE_UnknownEscape); } -> type(STR_TEXT) ;
INTERP_OPEN  : '${' { open(Interp); pushMode(DEFAULT_MODE); } ;
STR_DOLLAR   : '$' -> type(STR_TEXT) ;
STR_NEWLINE  : '\n' { newlineInString(); } ;

// ---- inside """...""" ----
mode TSTR;
TSTR_CLOSE   : '"""' { endLiteral(); } ;
TSTR_TEXT    : ~["\\$]+ ;
TSTR_ESC     : '\\$' ;
TSTR_BS      : '\\' -> type(TSTR_TEXT) ;
TSTR_QUOTE   : '"' -> type(TSTR_TEXT) ;
TINTERP_OPEN : '${' { open(Interp); pushMode(DEFAULT_MODE); } -> type(INTERP_OPEN) ;
TSTR_DOLLAR  : '$' -> type(TSTR_TEXT) ;

// ---- inside a template body ----
mode TPL;
TPL_CLOSE      : '"""' { endLiteral(); } ;
TPL_TEXT       : ~["{]+ ;
TPL_QUOTE      : '"' -> type(TPL_TEXT) ;
TPL_EXPR_OPEN  : '{{' { open(TplExpr); pushMode(DEFAULT_MODE); } ;
TPL_TAG_OPEN   : '{%' { open(TplTag); pushMode(DEFAULT_MODE); } ;
TPL_LBRACE     : '{' -> type(TPL_TEXT) ;
