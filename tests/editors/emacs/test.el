;;; test.el --- batch eglot test of editors/emacs/paper-ls.el  -*- lexical-binding: t; -*-
;;
;; emacs --batch -q -l tests/editors/emacs/test.el
;; Environment: REPO, PAPER_LS_BIN, WORK, PAPER_LS_CACHE_DIR.
;; Loads the shipped snippet as a user would, opens a Markdown and a LaTeX
;; note in a git project, starts eglot and checks hover (the abstract) and
;; definition (the entry line of the .bib).

(require 'cl-lib)
;; An interactive Emacs activates installed packages (Debian's elpa-*, or
;; ELPA's) at startup; --batch does not.
(require 'package)
(package-activate-all)
(defvar paper-test-passed 0)
(defvar paper-test-failed 0)
(defun paper-test-say (fmt &rest args)
  (princ (concat (apply #'format fmt args) "\n")))
(defun paper-test-check (name ok &optional detail)
  (if ok
      (progn (cl-incf paper-test-passed) (paper-test-say "PASS emacs: %s" name))
    (cl-incf paper-test-failed)
    (paper-test-say "FAIL emacs: %s%s" name (if detail (concat " — " detail) ""))))
(defun paper-test-short (s &optional n)
  (let ((s (replace-regexp-in-string "[ \t\n]+" " " (format "%s" s)))
        (n (or n 300)))
    (if (> (length s) n) (concat (substring s 0 n) "…") s)))

(let* ((repo (getenv "REPO"))
       (work (file-name-as-directory (getenv "WORK")))
       (key "grokfast-accelerated-grokking")
       (abstract "One puzzling artifact in machine learning dubbed grokking"))
  (make-directory (expand-file-name ".git" work) t)
  (with-temp-file (expand-file-name "note.md" work)
    (insert "# Notes\n\nSlow gradients [@" key "] speed up grokking.\n"))
  (with-temp-file (expand-file-name "chapter.tex" work)
    (insert "\\documentclass{article}\n\\begin{document}\nSee \\cite{" key "}.\n\\end{document}\n"))

  ;; The user's init: the shipped snippet, with the server path set.
  (add-to-list 'load-path (expand-file-name "editors/emacs" repo))
  (require 'paper-ls)
  (setq paper-ls-server-path (getenv "PAPER_LS_BIN"))
  (setq eglot-sync-connect 30 eglot-connect-timeout 60)
  (paper-test-say "  emacs %s, eglot %s" emacs-version
                  (if (boundp 'eglot--version) eglot--version
                    (let ((d (cadr (assq 'eglot package-alist))))
                      (if d (package-version-join (package-desc-version d)) "built in"))))

  (dolist (case `(("note.md" ,(concat "[@" key) markdown-mode)
                  ("chapter.tex" ,(concat "\\cite{" key) latex-mode)))
    (let* ((file (expand-file-name (nth 0 case) work))
           (buf (find-file-noselect file)))
      (with-current-buffer buf
        (paper-test-check (format "%s opens in %s" (nth 0 case) (nth 2 case))
                          (derived-mode-p (nth 2 case)) (symbol-name major-mode))
        (condition-case err
            (progn
              (unless (eglot-current-server) (call-interactively #'eglot))
              (let ((server (eglot-current-server)))
                (paper-test-check (format "eglot connects to paper-ls for %s" (nth 0 case))
                                  server)
                (goto-char (point-min))
                (search-forward (nth 1 case))
                (backward-char 3)
                (let* ((hover (jsonrpc-request server :textDocument/hover
                                               (eglot--TextDocumentPositionParams)))
                       (contents (plist-get hover :contents))
                       (text (if (stringp contents) contents
                               (or (plist-get contents :value) (format "%S" contents)))))
                  (paper-test-say "  hover (%s): %s" (nth 0 case) (paper-test-short text))
                  (paper-test-check (format "hover in %s shows the abstract" (nth 0 case))
                                    (string-match-p (regexp-quote abstract) text)))
                (let* ((defs (jsonrpc-request server :textDocument/definition
                                              (eglot--TextDocumentPositionParams)))
                       (loc (if (vectorp defs) (aref defs 0) defs))
                       (uri (or (plist-get loc :uri) (plist-get loc :targetUri)))
                       (range (or (plist-get loc :range) (plist-get loc :targetSelectionRange)))
                       (line (plist-get (plist-get range :start) :line))
                       (path (eglot--uri-to-path uri))
                       (text (with-temp-buffer
                               (insert-file-contents path)
                               (forward-line line)
                               (buffer-substring (line-beginning-position) (line-end-position)))))
                  (paper-test-say "  definition (%s): %s:%d: %s" (nth 0 case) path (1+ line) text)
                  (paper-test-check (format "definition in %s lands on the entry line" (nth 0 case))
                                    (string-match-p (concat "^@[a-zA-Z]+{" (regexp-quote key) ",")
                                                    text)))))
          (error (paper-test-check (format "eglot in %s" (nth 0 case)) nil
                                   (error-message-string err))))))))

(ignore-errors (eglot-shutdown-all))
(paper-test-say "emacs: %d passed, %d failed" paper-test-passed paper-test-failed)
(kill-emacs (if (= paper-test-failed 0) 0 1))
