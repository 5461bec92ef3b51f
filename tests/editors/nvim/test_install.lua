-- Headless Neovim 0.11 test of how editors/nvim finds and installs the
-- server, on a machine where it is not installed: HOME is a new folder and
-- PATH holds no paper-ls. The plugin must find a server that Mason linked
-- into its bin folder and one in ~/.cargo/bin, say which one in
-- :checkhealth paper-ls, and install the released wheel with
-- `python -m pip install --user` (what a lazy.nvim `build` step runs when
-- pipx is missing); the installed command then answers a hover.
--
-- nvim --headless -u NONE -i NONE -l tests/editors/nvim/test_install.lua
-- Environment: REPO, WORK, WHEEL (the built wheel), RELEASE_BIN (the release
-- binary), HOME (empty), PATH without paper-ls, PAPER_LS_CACHE_DIR.

local repo = assert(os.getenv('REPO'), 'REPO not set')
local work = assert(os.getenv('WORK'), 'WORK not set')
local wheel = assert(os.getenv('WHEEL'), 'WHEEL not set')
local release_bin = assert(os.getenv('RELEASE_BIN'), 'RELEASE_BIN not set')
local home = assert(os.getenv('HOME'), 'HOME not set')

local tally = dofile(repo .. '/tests/editors/nvim/report.lua')('nvim-install')
local say, check, short = tally.say, tally.check, tally.short
local messages = {}
vim.notify = function(msg)
  table.insert(messages, msg)
end

local KEY = 'grokfast-accelerated-grokking'
local ABSTRACT = 'One puzzling artifact in machine learning dubbed grokking'

vim.opt.rtp:prepend(repo .. '/editors/nvim')
vim.cmd('filetype on')
vim.o.swapfile = false
local paper = require('paper-ls')

local function health()
  vim.cmd('checkhealth paper-ls')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  return text
end

check('PATH has no paper-ls', vim.fn.exepath('paper-ls') == '', vim.fn.exepath('paper-ls'))
check('nothing is found before anything is installed', #paper.find_servers() == 0, vim.inspect(paper.find_servers()))
local report = health()
check(
  ':checkhealth says no server is found and how to install one',
  report:find('no `paper-ls` found', 1, true) ~= nil and report:find('pipx install paper-ls', 1, true) ~= nil,
  short(report, 500)
)

-- Where Mason links what it installs: stdpath('data')/mason/bin.
local mason_bin = vim.fn.stdpath('data') .. '/mason/bin'
check('stdpath("data") is under the test HOME', vim.startswith(mason_bin, home), mason_bin)
vim.fn.mkdir(mason_bin, 'p')
vim.loop.fs_symlink(release_bin, mason_bin .. '/paper-ls')
local found = paper.find_servers()[1]
check('a server Mason installed is found', found and found.source == 'Mason' and found.path == mason_bin .. '/paper-ls', vim.inspect(found))
report = health()
check(
  ':checkhealth names the Mason server and its version',
  report:find('using ' .. mason_bin .. '/paper-ls (Mason): paper-ls 0.', 1, true) ~= nil,
  short(report, 500)
)
os.remove(mason_bin .. '/paper-ls')

vim.fn.mkdir(home .. '/.cargo/bin', 'p')
vim.loop.fs_symlink(release_bin, home .. '/.cargo/bin/paper-ls')
found = paper.find_servers()[1]
check('a server cargo installed is found', found and found.source == 'cargo', vim.inspect(found))
os.remove(home .. '/.cargo/bin/paper-ls')

-- The lazy.nvim build step: pipx is not on PATH here, so pip --user.
check('pipx is not on PATH (the pip --user path is the one tested)', vim.fn.executable('pipx') == 0)
local installed = paper.install({ source = wheel })
check('install() installs the wheel with pip --user', installed, short(table.concat(messages, ' | '), 800))
found = paper.find_servers()[1]
local user_bin = home .. '/.local/bin/paper-ls'
check('the pip-installed server is found in ~/.local/bin', found and found.path == user_bin, vim.inspect(found))
local version = found and paper.server_version(found.path) or ''
check('it is the released version', version:match('^paper%-ls %d+%.%d+%.%d+ %(%x+%)$') ~= nil, version)
check('install() a second time only says it is there', paper.install({ source = wheel })
  and messages[#messages]:find('already installed', 1, true) ~= nil, messages[#messages])

-- The installed server in use: setup{} with no cmd, a note, a hover.
vim.fn.mkdir(work .. '/.git', 'p')
local note = work .. '/note.md'
vim.fn.writefile({ '# Notes', '', 'Slow-gradient amplification [@' .. KEY .. '] speeds up grokking.' }, note)
check('setup{} with no cmd', paper.setup({}) == true)
check('the command it runs is the installed one', paper.cmd()[1] == user_bin, vim.inspect(paper.cmd()))
vim.cmd('edit ' .. vim.fn.fnameescape(note))
local buf = vim.api.nvim_get_current_buf()
local attached = vim.wait(30000, function()
  local c = vim.lsp.get_clients({ bufnr = buf, name = 'paper_ls' })[1]
  return c ~= nil and c.initialized == true
end, 50)
check('the installed server attaches to note.md', attached)
local client = vim.lsp.get_clients({ bufnr = buf, name = 'paper_ls' })[1]
local hover = ''
if client then
  local line = vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1]
  local col = line:find(KEY, 1, true) + 2
  vim.wait(20000, function()
    local resp = client:request_sync('textDocument/hover', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      position = { line = 2, character = col },
    }, 5000, buf)
    local contents = resp and resp.result and resp.result.contents
    hover = type(contents) == 'table' and (contents.value or '') or ''
    return hover:find(ABSTRACT, 1, true) ~= nil
  end, 200)
  local info = client.server_info or {}
  check(
    'serverInfo is the installed version',
    (info.version or '') ~= '' and version == 'paper-ls ' .. info.version,
    vim.inspect(info)
  )
end
check('hover on the key shows the abstract', hover:find(ABSTRACT, 1, true) ~= nil, short(hover))
report = health()
check(
  ':checkhealth names the pip-installed server and the running client',
  report:find('using ' .. user_bin .. ' (pipx or pip --user): paper-ls 0.', 1, true) ~= nil
    and report:find('papers', 1, true) ~= nil,
  short(report, 600)
)

tally.summary()
for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop(true)
end
os.exit(tally.failed == 0 and 0 or 1)
