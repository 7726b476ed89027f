;;; cfp-mode.el --- Major mode for CFM's procedure language (.cfp) -*- lexical-binding: t -*-

;; cfp-mode.el — an Emacs major mode for CFM procedure files: font-lock (comments, "..."
;; strings with escapes and ${...}, """...""" strings, template bodies with {{ }} and {% %},
;; durations, numbers, keywords, built-in and model types, built-in and API functions),
;; indentation by bracket depth (template bodies, triple-quoted strings and comments are left as
;; written), `//' and `/* */' comments, `.cfp' in `auto-mode-alist', and an eglot entry that
;; starts `cfmc lsp' (the server comes with a later CFM release).

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1"))
;; Keywords: languages

;;; Commentary:

;; Install: (add-to-list 'load-path "/path/to/cfm/editors/emacs") (require 'cfp-mode)
;; Tests: cfp-mode-tests.el (ERT), run by the ctest `editors.emacs'.

;;; Code:

(require 'rx)

(defgroup cfp nil
  "CFM's procedure language."
  :group 'languages
  :prefix "cfp-")

(defcustom cfp-indent-offset 2
  "Columns per open bracket in `cfp-mode'."
  :type 'integer
  :safe #'integerp)

(defface cfp-number-face '((t :inherit font-lock-constant-face))
  "Numbers in `cfp-mode'.")
(defface cfp-duration-face '((t :inherit font-lock-constant-face))
  "Duration literals (500ms, 1.5m) in `cfp-mode'.")
(defface cfp-api-face '((t :inherit font-lock-builtin-face))
  "Functions of the procedure API (run_vm, put_file, ...) in `cfp-mode'.")
(defface cfp-escape-face '((t :inherit font-lock-regexp-grouping-backslash))
  "Escape sequences in strings in `cfp-mode'.")
(defface cfp-interpolation-face '((t :inherit font-lock-variable-name-face))
  "${...} interpolations in strings in `cfp-mode'.")
(defface cfp-template-delimiter-face '((t :inherit font-lock-preprocessor-face))
  "{{ }} and {% %} in template bodies in `cfp-mode'.")
(defface cfp-template-code-face '((t :inherit default))
  "The code inside {{ }} and {% %} in template bodies in `cfp-mode'.")

(defconst cfp-keywords
  '("if" "else" "while" "for" "in" "break" "continue" "return" "try" "catch" "throw" "async"
    "fn" "procedure" "template" "record" "import" "const" "let" "var")
  "Keywords of the language (LANGUAGE.md \"Lexical\"), less the literals.")
(defconst cfp-types
  '("int" "float" "bool" "string" "duration" "void" "json" "list" "map" "Task")
  "Built-in types.")
(defconst cfp-model-types
  '("BusinessSystem" "BusinessSystemElement" "BusinessSystemElementInstance" "VMClass"
    "VMInstance" "ConfigTemplate" "CommandResult" "CloudEvent")
  "Model objects and the records of the procedure API.")
(defconst cfp-builtins
  '("print" "str" "int" "float" "len" "sleep" "now" "parse_json" "to_json" "fail" "wait")
  "Built-in functions every program has.")
(defconst cfp-api-functions
  '("run_vm" "terminate_vm" "attach_volume" "associate_address" "reload" "set_property"
    "this_manager" "this_cloud" "run_agent_command" "put_file" "publish_cloud_event"
    "wait_cloud_event")
  "Functions of the procedure API (API.md).")

(defvar cfp-mode-syntax-table
  (let ((st (make-syntax-table)))
    (modify-syntax-entry ?/ ". 124b" st)
    (modify-syntax-entry ?* ". 23" st)
    (modify-syntax-entry ?\n "> b" st)
    (modify-syntax-entry ?_ "_" st)
    (modify-syntax-entry ?\" "\"" st)
    (modify-syntax-entry ?\\ "\\" st)
    (dolist (c '(?+ ?- ?% ?= ?< ?> ?! ?& ?| ?. ?: ?\; ?, ?$))
      (modify-syntax-entry c "." st))
    st)
  "Syntax table of `cfp-mode'.")

;;;; Triple-quoted strings and template bodies

(defun cfp--template-opener-p (pos)
  "True when the \"\"\" at POS opens a template body: it follows `template NAME(...)'."
  (save-excursion
    (goto-char pos)
    (skip-chars-backward " \t\n")
    (and (eq (char-before) ?\))
         (condition-case nil
             (progn
               (backward-sexp)
               (skip-chars-backward " \t\n")
               (skip-syntax-backward "w_")
               (skip-chars-backward " \t\n")
               (looking-back "\\_<template" (max (point-min) (- (point) 8))))
           (scan-error nil)))))

(defun cfp--syntax-propertize (start end)
  "Mark the \"\"\" of triple strings and template bodies from START to END.
The first quote of an opener and the last of a closer become string
fences, so the text between, quotes and braces included, is one string;
the opener of a template body also gets the text property `cfp-template'."
  (goto-char start)
  (while (re-search-forward "\"\"\"" end t)
    (let* ((mb (match-beginning 0))
           (ppss (save-excursion (syntax-ppss mb))))
      (cond
       ((nth 4 ppss))                   ; in a comment
       ((eq (nth 3 ppss) t)             ; in a fenced string: this closes it
        (put-text-property (1- (point)) (point) 'syntax-table (string-to-syntax "|")))
       ((nth 3 ppss))                   ; in a "..." string
       (t
        (put-text-property mb (1+ mb) 'syntax-table (string-to-syntax "|"))
        (when (cfp--template-opener-p mb)
          (put-text-property mb (+ mb 3) 'cfp-template t)))))))

(defun cfp--in-template-body-p (pos)
  "True when POS is inside a template body (the match data are kept)."
  (let ((ppss (save-excursion (save-match-data (syntax-ppss pos)))))
    (and (eq (nth 3 ppss) t) (get-text-property (nth 8 ppss) 'cfp-template))))

;;;; Font-lock matchers

(defun cfp--match-type (limit)
  "Find the next built-in type name before LIMIT (`int(' is a call, not a type)."
  (let ((re (regexp-opt cfp-types 'symbols)) found)
    (while (and (not found) (re-search-forward re limit t))
      (unless (looking-at-p "\\s-*(") (setq found t)))
    found))

(defun cfp--match-template-part (limit)
  "Find the next {{ ... }} or {% ... %} of a template body before LIMIT.
Match groups: 1 the opener, 2 the code, 3 the closer."
  (let (found)
    (while (and (not found) (re-search-forward "{[{%]" limit t))
      (let* ((open (match-beginning 0))
             (closer (if (eq (char-before) ?{) "}}" "%}")))
        (when (cfp--in-template-body-p open)
          (let ((code (point)))
            (when (search-forward closer (line-end-position) t)
              (set-match-data (list open (point) open code code (- (point) 2) (- (point) 2) (point)))
              (setq found t))))))
    found))

(defun cfp--match-template-keyword (limit)
  "Find the next keyword of a {% %} tag before LIMIT.
The keywords of tags are `for', `in', `if', `else' and `end'."
  (let (found)
    (while (and (not found)
                (re-search-forward "\\_<\\(for\\|in\\|if\\|else\\|end\\)\\_>" limit t))
      (let ((kw (match-beginning 0)))
        (save-excursion
          (save-match-data
            (goto-char kw)
            (let ((tag (search-backward "{%" (line-beginning-position) t)))
              (when (and tag (not (search-forward "%}" kw t)) (cfp--in-template-body-p tag))
                (setq found t)))))))
    found))

(defun cfp--match-interpolation (limit)
  "Find the next ${...} of a string before LIMIT, braces balanced.
Template bodies have no interpolation."
  (let (found)
    (while (and (not found) (search-forward "${" limit t))
      (let* ((open (- (point) 2))
             (ppss (save-excursion (syntax-ppss open))))
        (when (and (nth 3 ppss)
                   (not (get-text-property (nth 8 ppss) 'cfp-template))
                   (not (eq (char-before open) ?\\)))
          (let ((depth 1) (eol (line-end-position)))
            (while (and (> depth 0) (< (point) eol))
              (pcase (char-after)
                (?{ (setq depth (1+ depth)))
                (?} (setq depth (1- depth))))
              (forward-char))
            (set-match-data (list open (point)))
            (setq found t)))))
    found))

(defun cfp--match-escape (limit)
  "Find the next escape sequence of a string before LIMIT.
Triple-quoted strings have only \\$; template bodies none."
  (let (found)
    (while (and (not found)
                (re-search-forward "\\\\\\(?:u{[0-9a-fA-F]+}\\|[ntr\"\\\\$]\\)" limit t))
      (let ((ppss (save-excursion (save-match-data (syntax-ppss (match-beginning 0))))))
        (cond
         ((eq (nth 3 ppss) ?\") (setq found t))
         ((and (eq (nth 3 ppss) t)
               (not (get-text-property (nth 8 ppss) 'cfp-template))
               (string= (match-string 0) "\\$"))
          (setq found t)))))
    found))

(defconst cfp-font-lock-keywords
  `((,(rx symbol-start (group (or "fn" "procedure" "template")) (+ space)
          (group (any alpha "_") (* (any alnum "_"))))
     (2 font-lock-function-name-face))
    (,(rx symbol-start "record" (+ space) (group (any alpha "_") (* (any alnum "_"))))
     (1 font-lock-type-face))
    (,(rx symbol-start "const" (+ space) (group (any alpha "_") (* (any alnum "_"))))
     (1 font-lock-constant-face))
    (,(rx symbol-start (or "let" "var") (+ space) (group (any alpha "_") (* (any alnum "_"))))
     (1 font-lock-variable-name-face))
    (,(regexp-opt cfp-keywords 'symbols) . font-lock-keyword-face)
    (,(regexp-opt '("true" "false" "null") 'symbols) . font-lock-constant-face)
    (,(concat (regexp-opt cfp-builtins 'symbols) "\\s-*(") (1 font-lock-builtin-face))
    (,(concat (regexp-opt cfp-api-functions 'symbols) "\\s-*(") (1 'cfp-api-face))
    (cfp--match-type . font-lock-type-face)
    (,(regexp-opt cfp-model-types 'symbols) . font-lock-type-face)
    ;; A name in CamelCase with a lower-case letter is a record type by the house convention.
    ("\\_<[A-Z][A-Za-z0-9_]*[a-z][A-Za-z0-9_]*\\_>" . font-lock-type-face)
    ;; Numbers: durations, floats, integers, then anything else that starts with a digit.
    ("\\_<[0-9][0-9_]*\\(?:\\.[0-9][0-9_]*\\)?\\(?:[eE][+-]?[0-9][0-9_]*\\)?\\(?:ms\\|s\\|m\\|h\\)\\_>"
     . 'cfp-duration-face)
    ("\\_<[0-9][0-9_]*\\(?:\\.[0-9][0-9_]*\\(?:[eE][+-]?[0-9][0-9_]*\\)?\\|[eE][+-]?[0-9][0-9_]*\\)\\_>"
     . 'cfp-number-face)
    ("\\_<\\(?:0[xX]_*[0-9a-fA-F][0-9a-fA-F_]*\\|0[oO]_*[0-7][0-7_]*\\|0[bB]_*[01][01_]*\\|[0-9][0-9_]*\\)\\_>"
     . 'cfp-number-face)
    ("\\_<[0-9][A-Za-z0-9_]*" . font-lock-warning-face)
    ;; Inside strings (these override the string face).
    (cfp--match-escape (0 'cfp-escape-face t))
    (cfp--match-interpolation (0 'cfp-interpolation-face t))
    (cfp--match-template-part (1 'cfp-template-delimiter-face t)
                              (2 'cfp-template-code-face t)
                              (3 'cfp-template-delimiter-face t))
    (cfp--match-template-keyword (0 font-lock-keyword-face t)))
  "Font-lock keywords of `cfp-mode'.")

;;;; Indentation

(defun cfp-indent-line ()
  "Indent the current line by its bracket depth.
Lines that begin inside a string, a template body or a comment are left alone."
  (interactive)
  (let* ((bol (line-beginning-position))
         (ppss (save-excursion (syntax-ppss bol))))
    (if (or (nth 3 ppss) (nth 4 ppss))
        'noindent
      (let* ((depth (car ppss))
             (closer (save-excursion
                       (back-to-indentation)
                       (looking-at-p "[])}]")))
             (col (* cfp-indent-offset (max 0 (if closer (1- depth) depth))))
             (offset (- (current-column) (current-indentation))))
        (indent-line-to col)
        (when (> offset 0) (forward-char offset))))))

;;;; The mode

;;;###autoload
(define-derived-mode cfp-mode prog-mode "CFP"
  "Major mode for CFM procedure files (.cfp)."
  :syntax-table cfp-mode-syntax-table
  (setq-local comment-start "// ")
  (setq-local comment-end "")
  (setq-local comment-start-skip "\\(?://+\\|/\\*+\\)\\s-*")
  (setq-local syntax-propertize-function #'cfp--syntax-propertize)
  (setq-local parse-sexp-lookup-properties t)
  (setq-local font-lock-defaults '(cfp-font-lock-keywords))
  (setq-local font-lock-multiline t)
  (setq-local indent-line-function #'cfp-indent-line)
  (setq-local indent-tabs-mode nil)
  (setq-local electric-indent-chars (append "{}()[]" electric-indent-chars)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.cfp\\'" . cfp-mode))

;; `cfmc lsp' serves the language over stdio: M-x eglot in a .cfp buffer; then
;; `eglot-format-buffer' lays the buffer out as `cfmc fmt' does.
(defvar eglot-server-programs)
;;;###autoload
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs '(cfp-mode "cfmc" "lsp")))

(provide 'cfp-mode)
;;; cfp-mode.el ends here
