# paper-ls for Kakoune with kakoune-lsp (kak-lsp 17 or later, where servers
# are configured from kakrc). Source this file from kakrc after kak-lsp is
# loaded and enabled:
#
#   eval %sh{kak-lsp}
#   lsp-enable
#   source /path/to/paper-ls/editors/kakoune/paper-ls.kak
#
# Needs the server on PATH: `cargo install --path server` in the paper-ls
# repository (or set `command` to an absolute path below).
#
# Adding paper-ls to a buffer's lsp_servers means kak-lsp's own defaults for
# Markdown and LaTeX (marksman, texlab) are no longer filled in for it; list
# them here too if you use them, e.g. a `[texlab]` table with its root_globs.

hook -group paper-ls global BufSetOption filetype=(?:markdown|latex|typst) %{
    set-option -add buffer lsp_servers %{
        [paper-ls]
        command = "paper-ls"
        root_globs = ["paper-ls.toml", ".git", ".hg"]
        settings_section = "paper-ls"
        [paper-ls.settings.paper-ls]
        # corpus = ["refs/*.bib"]
        maxCompletions = 50
        inlayHints = true
    }
}

# Hover with the cursor on a key or a title: `lsp-hover` (in the lsp user
# mode: `<space>l h` with kak-lsp's suggested mapping), go to the entry:
# `lsp-definition`, related papers: `lsp-implementation`.
