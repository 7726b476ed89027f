;;; cfp-mode-tests.el --- ERT tests of cfp-mode -*- lexical-binding: t -*-

;; cfp-mode-tests.el — the ctest `editors.emacs': font-lock faces at chosen places of
;; purpose-made text (code, strings, triple-quoted strings, template bodies), indentation of a
;; purpose-made file (template bodies and triple-quoted strings kept as written), comment
;; settings, `auto-mode-alist' and the eglot entry. Run: emacs --batch -Q -L editors/emacs
;; -l editors/emacs/cfp-mode-tests.el -f ert-run-tests-batch-and-exit

;;; Code:

(require 'ert)
(require 'cfp-mode)
(defvar eglot-server-programs)

(defun cfp-test--faces (text needle &optional offset)
  "The faces (a list) at the first NEEDLE in TEXT, OFFSET chars in.
TEXT is fontified by `cfp-mode'."
  (with-temp-buffer
    (insert text)
    (cfp-mode)
    (font-lock-ensure)
    (goto-char (point-min))
    (unless (search-forward needle nil t)
      (error "No %S in the test text" needle))
    (let ((face (get-text-property (+ (match-beginning 0) (or offset 0)) 'face)))
      (if (listp face) face (list face)))))

(defmacro cfp-test--face (text &rest checks)
  "Check faces in TEXT: each of CHECKS is (NEEDLE FACE [OFFSET]).
FACE nil means no face at all."
  (declare (indent 1))
  `(progn
     ,@(mapcar (lambda (c)
                 (let ((needle (nth 0 c)) (face (nth 1 c)) (offset (nth 2 c)))
                   (if face
                       `(should (memq ',face (cfp-test--faces ,text ,needle ,offset)))
                     `(should (equal '(nil) (cfp-test--faces ,text ,needle ,offset))))))
               checks)))

(defconst cfp-test--code "// a comment
/* a block
   comment */
import \"lib/common.cfp\";
const RETRIES = 3;
record Endpoint { host: string, port: int }
fn addr(e: Endpoint) -> string { return e.host; }
procedure main(n: int = 2, d: duration = 10m) {
  var xs: list<int> = [1_000, 0x1F, 0o644, 0b101, 1.5, 2e10, 1.5e-3];
  let ds = [500ms, 30s, 1.5m, 2h, 4kb];
  for i in 0..n { if i % 2 == 0 && !false { continue; } else { break; } }
  let j: json = null;
  let t: Task<int> = async addr(Endpoint { host: \"h\", port: 1 });
  print(str(int(\"3\") + len(xs)));
  try { throw \"x\"; } catch err { fail(err.message); }
  let vm: VMInstance = run_vm(sys, \"web\", timeout: 10m);
  let res: CommandResult = run_agent_command(vm, \"uptime\");
}
")

(ert-deftest cfp-mode-font-lock-code ()
  (cfp-test--face cfp-test--code
    ("a comment" font-lock-comment-face)
    ("comment */" font-lock-comment-face)
    ("import" font-lock-keyword-face)
    ("\"lib" font-lock-string-face)
    ("const" font-lock-keyword-face)
    ("RETRIES" font-lock-constant-face)
    ("= 3" cfp-number-face 2)
    ("record" font-lock-keyword-face)
    ("Endpoint {" font-lock-type-face)
    ("string," font-lock-type-face)
    ("addr(e" font-lock-function-name-face)
    ("Endpoint)" font-lock-type-face)
    ("return" font-lock-keyword-face)
    ("procedure" font-lock-keyword-face)
    ("main" font-lock-function-name-face)
    ("10m)" cfp-duration-face)
    ("duration =" font-lock-type-face)
    ("list<" font-lock-type-face)
    ("xs:" font-lock-variable-name-face)
    ("1_000" cfp-number-face)
    ("0x1F" cfp-number-face)
    ("0o644" cfp-number-face)
    ("0b101" cfp-number-face)
    ("1.5," cfp-number-face)
    ("2e10" cfp-number-face)
    ("1.5e-3" cfp-number-face)
    ("500ms" cfp-duration-face)
    ("30s" cfp-duration-face)
    ("1.5m" cfp-duration-face)
    ("2h" cfp-duration-face)
    ("4kb" font-lock-warning-face)
    ("for i" font-lock-keyword-face)
    ("in 0" font-lock-keyword-face)
    ("if i" font-lock-keyword-face)
    ("false" font-lock-constant-face)
    ("continue" font-lock-keyword-face)
    ("else" font-lock-keyword-face)
    ("json" font-lock-type-face)
    ("null" font-lock-constant-face)
    ("Task" font-lock-type-face)
    ("async" font-lock-keyword-face)
    ("print(" font-lock-builtin-face)
    ("str(" font-lock-builtin-face)
    ("int(\"" font-lock-builtin-face)
    ("len(" font-lock-builtin-face)
    ("try" font-lock-keyword-face)
    ("throw" font-lock-keyword-face)
    ("catch" font-lock-keyword-face)
    ("fail(" font-lock-builtin-face)
    ("VMInstance" font-lock-type-face)
    ("run_vm" cfp-api-face)
    ("CommandResult" font-lock-type-face)
    ("run_agent_command" cfp-api-face)))

(defconst cfp-test--strings "procedure main() {
  let s = \"tab\\t bad\\q ${ {\\\"k\\\": n}[\\\"k\\\"] } // not a comment\";
  let u = \"\"\"raw \\n \"q\" { ${n} \\${kept} {{ no }}\"\"\";
  let after = 1;
}
")

(ert-deftest cfp-mode-font-lock-strings ()
  (cfp-test--face cfp-test--strings
    ("\"tab" font-lock-string-face)
    ("\\t" cfp-escape-face)
    ("\\q" font-lock-string-face)
    ("${ {" cfp-interpolation-face)
    ("} // not" cfp-interpolation-face)
    ("// not a comment" font-lock-string-face)
    ("\"\"\"raw" font-lock-string-face)
    ("\\n \"q\"" font-lock-string-face)
    ("\"q\"" font-lock-string-face)
    ("{ ${n}" font-lock-string-face)
    ("${n}" cfp-interpolation-face)
    ("\\${kept}" cfp-escape-face)
    ("{{ no }}" font-lock-string-face)
    ("after" font-lock-variable-name-face)
    ("let after" font-lock-keyword-face)))

(defconst cfp-test--template "template upstream(name: string, servers: list<string>) \"\"\"
upstream {{ name }} { \"q\" ${VAR} // text
{% for s in servers %}
    server {{ s.host }};
{% end %}
\"\"\"
procedure after() { return; }
")

(ert-deftest cfp-mode-font-lock-template ()
  (cfp-test--face cfp-test--template
    ("template" font-lock-keyword-face)
    ("upstream(" font-lock-function-name-face)
    ("string," font-lock-type-face)
    ("\"\"\"\nupstream" font-lock-string-face)
    ("upstream {{" font-lock-string-face)
    ("{{ name" cfp-template-delimiter-face)
    ("name }}" cfp-template-code-face)
    ("}} {" cfp-template-delimiter-face)
    ("\"q\"" font-lock-string-face)
    ("${VAR}" font-lock-string-face)
    ("// text" font-lock-string-face)
    ("{% for" cfp-template-delimiter-face)
    ("for s" font-lock-keyword-face)
    ("in servers" font-lock-keyword-face)
    ("server {{" font-lock-string-face)
    ("end" font-lock-keyword-face)
    ("procedure after" font-lock-keyword-face)
    ("after()" font-lock-function-name-face)
    ("return" font-lock-keyword-face)))

(defconst cfp-test--indented "record Endpoint {
  host: string,
  port: int,
}
fn pick(xs: list<int>, n: int) -> int {
  var total = 0;
  for x in xs {
    if x > n {
      total += x;
    } else {
      total -= 1;
    }
  }
  let m = {
    \"a\": [1, 2],
  };
  let s = \"{ not a brace ( [\";
  let t = \"\"\"
kept as written {
      even here
\"\"\";
  return total; // a { in a comment
}
template page(items: list<string>) \"\"\"
{% for x in items %}
    <li>{{ x }}</li>
\t{% end %}
\"\"\"
procedure main() {
  print(pick([1], 2));
}
")

(defun cfp-test--flatten (text)
  "TEXT with the indentation of its code lines removed.
Lines that begin inside a multi-line string are kept."
  (with-temp-buffer
    (insert text)
    (cfp-mode)
    (goto-char (point-min))
    (while (not (eobp))
      (unless (nth 3 (syntax-ppss (line-beginning-position)))
        (delete-horizontal-space t)
        (when (looking-at "[ \t]+") (replace-match "")))
      (forward-line 1))
    (buffer-string)))

(ert-deftest cfp-mode-indentation ()
  (let ((flat (cfp-test--flatten cfp-test--indented)))
    (should-not (equal flat cfp-test--indented))
    (with-temp-buffer
      (insert flat)
      (cfp-mode)
      (indent-region (point-min) (point-max))
      (should (equal (buffer-string) cfp-test--indented)))))

(ert-deftest cfp-mode-indent-line-keeps-point-in-text ()
  (with-temp-buffer
    (insert "procedure main() {\nprint(1);\n}\n")
    (cfp-mode)
    (goto-char (point-min))
    (forward-line 1)
    (forward-char 5)
    (cfp-indent-line)
    (should (equal (buffer-substring (line-beginning-position) (point)) "  print"))))

(ert-deftest cfp-mode-settings ()
  (should (eq (assoc-default "dir/deploy.cfp" auto-mode-alist #'string-match) 'cfp-mode))
  (with-temp-buffer
    (cfp-mode)
    (should (equal comment-start "// "))
    (should (equal comment-end ""))
    (insert "let x = 1;")
    (comment-region (point-min) (point-max))
    (should (equal (buffer-string) "// let x = 1;"))))

(ert-deftest cfp-mode-eglot-entry ()
  ;; Emacs 29 has eglot; on 28 stand in for it, which runs the same `with-eval-after-load'.
  (unless (require 'eglot nil t)
    (defvar eglot-server-programs nil)
    (provide 'eglot))
  (should (equal (assq 'cfp-mode eglot-server-programs) '(cfp-mode "cfmc" "lsp"))))

;; The repository's own files: every sample keeps its layout under `indent-region', and every
;; sample and conformance file ends outside any string or comment unless it expects an
;; unterminated-construct error (the conformance suite's `// error...: unterminated' lines).
(defconst cfp-test--repo
  (expand-file-name "../.." (file-name-directory (or load-file-name buffer-file-name))))

(defun cfp-test--cfp-files (dir)
  "The .cfp files under DIR of the repository."
  (let ((root (expand-file-name dir cfp-test--repo)))
    (and (file-directory-p root) (directory-files-recursively root "\\.cfp\\'"))))

(ert-deftest cfp-mode-samples-keep-their-indentation ()
  (let ((files (cfp-test--cfp-files "samples")))
    (should files)
    (dolist (f files)
      (with-temp-buffer
        (insert-file-contents f)
        (let ((before (buffer-string)))
          (cfp-mode)
          (indent-region (point-min) (point-max))
          (should (equal (cons f (buffer-string)) (cons f before))))))))

(ert-deftest cfp-mode-corpus-ends-outside-strings ()
  (let ((files (append (cfp-test--cfp-files "samples") (cfp-test--cfp-files "tests/conformance"))))
    (should (> (length files) 100))
    (dolist (f files)
      (with-temp-buffer
        (insert-file-contents f)
        (cfp-mode)
        (font-lock-ensure)
        (unless (save-excursion
                  (goto-char (point-min))
                  (re-search-forward "// error[:@][0-9:]*:? ?unterminated" nil t))
          (let ((ppss (syntax-ppss (point-max))))
            (should (equal (list f (nth 3 ppss) (nth 4 ppss)) (list f nil nil)))))))))

(provide 'cfp-mode-tests)
;;; cfp-mode-tests.el ends here
