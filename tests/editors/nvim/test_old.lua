-- Debian's Neovim 0.7.2: setup{} must say that a newer Neovim is needed,
-- raise no error and start nothing.
--
-- nvim --headless -u NONE -c 'luafile tests/editors/nvim/test_old.lua'
-- (0.7 has no `-l`). Environment: REPO, PAPER_LS_BIN, WORK.

local repo = os.getenv('REPO')
local server = os.getenv('PAPER_LS_BIN')
local work = os.getenv('WORK')

local tally = dofile(repo .. '/tests/editors/nvim/report.lua')('nvim-0.7')
local say, check = tally.say, tally.check

say('  ' .. vim.split(vim.api.nvim_exec('version', true), '\n')[2])
vim.opt.rtp:prepend(repo .. '/editors/nvim')
vim.cmd('filetype on')

local ok, res = pcall(function()
  return require('paper-ls').setup({ cmd = { server } })
end)
local messages = vim.api.nvim_exec('messages', true)
say('  setup{} returned ' .. tostring(res) .. '; :messages: ' .. messages:gsub('\n', ' | '))
check('setup{} raises no error', ok, tostring(res))
check('setup{} returns false', ok and res == false, tostring(res))
check('the message says a newer Neovim is needed', messages:find('needs a newer Neovim', 1, true) ~= nil)

vim.fn.writefile({ 'Cite [@grokfast-accelerated-grokking].' }, work .. '/old.md')
local opened, err = pcall(vim.cmd, 'edit ' .. work .. '/old.md')
check('opening a Markdown note raises no error', opened, tostring(err))
check('no language client was started', #vim.lsp.get_active_clients() == 0)
check(':PaperSearch is not defined', vim.fn.exists(':PaperSearch') == 0)

tally.summary()
vim.cmd(tally.failed == 0 and 'qa!' or 'cq!')
