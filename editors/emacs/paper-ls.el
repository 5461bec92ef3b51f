;;; paper-ls.el --- Eglot setup for the paper-ls language server  -*- lexical-binding: t; -*-

;; Hover a citation key or a paper title in Markdown, LaTeX, Quarto or
;; R Markdown notes to read the paper's abstract; complete keys; jump to
;; the entry.  Load this file (or copy its forms into your init file), then
;; `M-x eglot' in a note, or let `eglot-ensure' start it (see below).
;;
;; Needs Emacs 28+ with eglot 1.9+ (built in from Emacs 29; `apt-get install
;; elpa-eglot' or M-x package-install RET eglot on 28), and the server:
;; `cargo install --path server' in the paper-ls repository.  Eglot wants a
;; project: the note should be inside a git repository (or another project
;; that `project.el' knows).

;;; Code:

(require 'eglot)

(defgroup paper-ls nil
  "The paper-ls language server for research notes."
  :group 'tools)

(defcustom paper-ls-server-path "paper-ls"
  "The paper-ls binary: a name on `exec-path' or an absolute file name."
  :type 'string)

(defcustom paper-ls-markdown-modes
  '((markdown-mode :language-id "markdown")
    (gfm-mode :language-id "markdown")
    (poly-markdown-mode :language-id "markdown")
    (quarto-mode :language-id "quarto")
    (poly-quarto-mode :language-id "quarto"))
  "Markdown-like major modes paper-ls serves, with their LSP language ids."
  :type '(repeat sexp))

(defcustom paper-ls-latex-modes
  '((latex-mode :language-id "latex")
    (LaTeX-mode :language-id "latex")
    (tex-mode :language-id "latex")
    (plain-tex-mode :language-id "latex"))
  "LaTeX major modes paper-ls serves, with their LSP language ids."
  :type '(repeat sexp))

(defcustom paper-ls-typst-modes
  '((typst-ts-mode :language-id "typst")
    (typst-mode :language-id "typst"))
  "Typst major modes paper-ls serves, with their LSP language ids."
  :type '(repeat sexp))

(defun paper-ls--contact (&rest _)
  "The command that starts the server."
  (list paper-ls-server-path))

;; One entry per language, not one: eglot before 1.10 sends one language id
;; for all the buffers a server manages, so Markdown, LaTeX and Typst notes
;; each get their own paper-ls process.  Added in front of the servers eglot
;; knows for them (digestif, texlab, tinymist).
(add-to-list 'eglot-server-programs (cons paper-ls-typst-modes #'paper-ls--contact))
(add-to-list 'eglot-server-programs (cons paper-ls-latex-modes #'paper-ls--contact))
(add-to-list 'eglot-server-programs (cons paper-ls-markdown-modes #'paper-ls--contact))

;; The server's settings (section `paper-ls'); the same keys as the README's
;; settings table.  Per project, put them in .dir-locals.el instead:
;;   ((nil . ((eglot-workspace-configuration
;;             . (:paper-ls (:corpus ["refs/*.bib"] :maxCompletions 50))))))
;; (setq-default eglot-workspace-configuration
;;               '(:paper-ls (:corpus ["refs/*.bib"] :inlayHints t)))

;; Start paper-ls in every note (optional):
;; (dolist (hook '(markdown-mode-hook latex-mode-hook LaTeX-mode-hook))
;;   (add-hook hook #'eglot-ensure))

(provide 'paper-ls)
;;; paper-ls.el ends here
