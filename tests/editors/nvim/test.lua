-- Headless Neovim 0.11 test of editors/nvim: loads the plugin from the
-- repository, calls setup{} as a user would, opens a Markdown and a LaTeX
-- note, and checks hover, completion, definition, :PaperRelated,
-- :PaperSearch and :checkhealth against the real server, and the quick fix
-- that adds a library paper to a thesis's refs.bib (command + applyEdit).
--
-- nvim --headless -u NONE -l tests/editors/nvim/test.lua
-- Environment: REPO (repository root), PAPER_LS_BIN (server binary),
-- WORK (a scratch folder), PAPER_LS_CACHE_DIR.

local repo = assert(os.getenv('REPO'), 'REPO not set')
local server = assert(os.getenv('PAPER_LS_BIN'), 'PAPER_LS_BIN not set')
local work = assert(os.getenv('WORK'), 'WORK not set')

local tally = dofile(repo .. '/tests/editors/nvim/report.lua')('nvim')
local say, check, short = tally.say, tally.check, tally.short

local KEY = 'grokfast-accelerated-grokking'
local ABSTRACT = 'One puzzling artifact in machine learning dubbed grokking'
local GROKKING = { 'grokfast-accelerated-grokking', 'grokking-tickets-lottery', 'grokking-edge-numerical' }

-- A workspace as a user has it: a git folder with notes.
vim.fn.mkdir(work .. '/.git', 'p')
local md_path = work .. '/note.md'
local tex_path = work .. '/chapter.tex'
local typ_path = work .. '/paper.typ'
vim.fn.writefile({
  '# Reading notes',
  '',
  'Slow-gradient amplification [@' .. KEY .. '] speeds up grokking.',
  '',
  'More on this: [@gro',
  '',
  'See ',
}, md_path)
vim.fn.writefile({
  '\\documentclass{article}',
  '\\begin{document}',
  'Grokking speeds up \\cite{' .. KEY .. '}.',
  'Compare \\citep{gro',
  '\\end{document}',
}, tex_path)
vim.fn.writefile({
  '= Reading notes',
  '',
  'Slow-gradient amplification @' .. KEY .. ' speeds up grokking.',
  '',
  'Compare @gro',
  '',
  'See ',
}, typ_path)

vim.opt.rtp:prepend(repo .. '/editors/nvim')
vim.cmd('filetype on')
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. 'A'

local ok_setup, res = pcall(function()
  return require('paper-ls').setup({ cmd = { server }, settings = { diagnosticsDelay = 50 } })
end)
check('setup{} returns true', ok_setup and res == true, tostring(res))

local function client_for(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'paper_ls' })[1]
end

local function open(path, ft)
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  check('filetype of ' .. vim.fn.fnamemodify(path, ':t') .. ' is ' .. ft, vim.bo[buf].filetype == ft, vim.bo[buf].filetype)
  local attached = vim.wait(20000, function()
    local c = client_for(buf)
    return c ~= nil and c.initialized == true
  end, 50)
  local c = client_for(buf)
  check(
    'server attached to ' .. vim.fn.fnamemodify(path, ':t'),
    attached,
    'clients: ' .. #vim.lsp.get_clients()
  )
  if c then
    say('  root_dir: ' .. tostring(c.config.root_dir))
  end
  return buf
end

-- Where `needle` is: its end (offset 'end'), inside the key it holds
-- (offset 'key'), or `offset` characters after its start.
local function pos_of(buf, needle, offset)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local s, e = line:find(needle, 1, true)
    if s then
      if offset == 'key' then
        return { line = i - 1, character = line:find(KEY, s, true) - 1 + 2 }
      end
      return { line = i - 1, character = (offset == 'end') and e or (s - 1 + (offset or 0)) }
    end
  end
  error('not in buffer: ' .. needle)
end

local function request(buf, method, pos, extra)
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = pos }
  for k, v in pairs(extra or {}) do
    params[k] = v
  end
  local out = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
  for _, r in pairs(out) do
    if r.err then
      return nil, r.err
    end
    return r.result
  end
  return nil, 'no answer'
end

local function hover_text(result)
  if not result then
    return ''
  end
  local c = result.contents
  if type(c) == 'string' then
    return c
  end
  if c.value then
    return c.value
  end
  local parts = {}
  for _, x in ipairs(c) do
    parts[#parts + 1] = type(x) == 'string' and x or x.value
  end
  return table.concat(parts, '\n')
end

local function labels(result)
  local items = result and (result.items or result) or {}
  local out = {}
  for _, it in ipairs(items) do
    out[#out + 1] = it.label
  end
  return out
end

local function has_all(list, wanted)
  local set = {}
  for _, x in ipairs(list) do
    set[x] = true
  end
  for _, w in ipairs(wanted) do
    if not set[w] then
      return false
    end
  end
  return true
end

local function test_note(path, ft, cite_needle, complete_needle)
  local name = vim.fn.fnamemodify(path, ':t')
  local buf = open(path, ft)
  if not client_for(buf) then
    for _, what in ipairs({ 'hover', 'completion', 'definition' }) do
      check(what .. ' in ' .. name, false, 'no paper-ls client')
    end
    return buf
  end

  -- Hover on the key: the paper's card, abstract included.
  local hover = hover_text((request(buf, 'textDocument/hover', pos_of(buf, cite_needle, 'key'))))
  say('  hover (' .. name .. '): ' .. short(hover))
  check('hover in ' .. name .. ' shows the abstract', hover:find(ABSTRACT, 1, true) ~= nil)

  -- Completion after `[@gro` / `\citep{gro`; as you type, retried until the
  -- index answers.
  local got = {}
  vim.wait(15000, function()
    got = labels((request(buf, 'textDocument/completion', pos_of(buf, complete_needle, 'end'))))
    return has_all(got, GROKKING)
  end, 200)
  say('  completion (' .. name .. ', ' .. complete_needle .. '): ' .. short(table.concat(got, ', ')))
  check('completion after ' .. complete_needle .. ' in ' .. name .. ' offers the three grokking papers', has_all(got, GROKKING))

  -- Definition: the user's jump (vim.lsp.buf.definition) lands on the entry line.
  local p = pos_of(buf, cite_needle, 'key')
  vim.api.nvim_win_set_cursor(0, { p.line + 1, p.character })
  vim.lsp.buf.definition()
  local landed = vim.wait(10000, function()
    return vim.api.nvim_buf_get_name(0):match('%.bib$') ~= nil
  end, 50)
  local line = vim.api.nvim_get_current_line()
  say(
    string.format(
      '  definition (%s): %s:%d: %s',
      name,
      vim.api.nvim_buf_get_name(0),
      vim.api.nvim_win_get_cursor(0)[1],
      line
    )
  )
  check(
    'definition in ' .. name .. ' lands on the entry line of the .bib',
    landed and line:match('^%s*@%a+%s*[{(]%s*' .. vim.pesc(KEY) .. '%s*,') ~= nil
  )
  vim.cmd('buffer ' .. buf)
  return buf
end

local md = test_note(md_path, 'markdown', '[@' .. KEY, '[@gro')
local tex = test_note(tex_path, 'tex', '\\cite{' .. KEY, '\\citep{gro')
local typ = test_note(typ_path, 'typst', '@' .. KEY, 'Compare @gro')

if #vim.lsp.get_clients({ name = 'paper_ls' }) == 0 then
  check('a paper-ls client runs for :PaperRelated, :PaperSearch, :checkhealth', false)
  tally.summary()
  os.exit(1)
end

-- :PaperRelated with the cursor on the key, through vim.ui.select.
vim.cmd('buffer ' .. md)
local p = pos_of(md, '[@' .. KEY, 'key')
vim.api.nvim_win_set_cursor(0, { p.line + 1, p.character })
local seen, formatted = nil, {}
vim.ui.select = function(items, opts, on_choice)
  seen = items
  for i, it in ipairs(items) do
    formatted[i] = opts.format_item and opts.format_item(it) or tostring(it)
  end
  on_choice(items[1], 1)
end
vim.cmd('PaperRelated')
vim.wait(10000, function()
  return seen ~= nil
end, 50)
seen = seen or {}
say('  :PaperRelated on ' .. KEY .. ':')
for i = 1, math.min(5, #formatted) do
  say('    ' .. formatted[i])
end
local self_listed = false
for _, it in ipairs(seen) do
  self_listed = self_listed or it.key == KEY
end
check(':PaperRelated lists related papers, not the paper itself', #seen > 0 and not self_listed, #seen .. ' papers')
local first = seen[1] and seen[1].key or '?'
local opened = vim.wait(5000, function()
  return vim.api.nvim_buf_get_name(0):match('%.bib$') ~= nil
end, 50)
check(
  ':PaperRelated opens the chosen paper\'s entry',
  opened and vim.api.nvim_get_current_line():find(first, 1, true) ~= nil,
  vim.api.nvim_buf_get_name(0) .. ': ' .. vim.api.nvim_get_current_line()
)

-- :PaperReferences shows the note's references formatted, beside it.
vim.cmd('buffer ' .. typ)
local before_refs = vim.api.nvim_get_current_buf()
vim.cmd('PaperReferences')
vim.wait(10000, function()
  return vim.api.nvim_get_current_buf() ~= before_refs and vim.bo.filetype == 'markdown'
end, 50)
local ref_lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
say('  :PaperReferences: ' .. table.concat(ref_lines, ' | '):sub(1, 200))
check(
  ':PaperReferences lists the cited paper formatted in the style',
  (ref_lines[1] or ''):find('References of', 1, true) ~= nil and table.concat(ref_lines, '\n'):find('%(n%.d%.%)') ~= nil,
  table.concat(ref_lines, ' | ')
)
if vim.api.nvim_get_current_buf() ~= before_refs then
  vim.cmd('close')
end

-- :PaperSearch inserts the chosen paper's citation in each syntax.
local function search_and_cite(buf, line_needle, expected)
  vim.cmd('buffer ' .. buf)
  local at = pos_of(buf, line_needle, 'end')
  vim.api.nvim_win_set_cursor(0, { at.line + 1, at.character - 1 })
  seen = nil
  vim.ui.select = function(items, _, on_choice)
    seen = items
    for i, it in ipairs(items) do
      if it.key == KEY then
        return on_choice(it, i)
      end
    end
    on_choice(nil)
  end
  vim.cmd('PaperSearch accelerated grokking slow gradients')
  vim.wait(10000, function()
    return seen ~= nil
  end, 50)
  local line = vim.api.nvim_buf_get_lines(buf, at.line, at.line + 1, false)[1]
  say('  :PaperSearch in ' .. vim.bo[buf].filetype .. ': ' .. #(seen or {}) .. ' papers; line now: ' .. line)
  check(':PaperSearch cites ' .. expected .. ' in ' .. vim.bo[buf].filetype, line:find(expected, 1, true) ~= nil)
end
search_and_cite(md, 'See ', 'See [@' .. KEY .. ']')
search_and_cite(tex, 'Compare \\citep{gro', '\\citep{gro, ' .. KEY)
search_and_cite(typ, 'See ', 'See @' .. KEY)

-- A thesis with its own library and refs.bib (a root of its own, so a
-- second client): the quick fix on a library paper that refs.bib lacks
-- runs the server's command, and Neovim applies the edit it sends back.
local thesis = work .. '/thesis'
vim.fn.mkdir(thesis, 'p')
vim.fn.writefile({ 'corpus = ["library.bib"]' }, thesis .. '/paper-ls.toml')
vim.fn.writefile({ '@string{jdl = {Journal of Deep Libraries}}',
  '@article{lib2021deep, title = {A Deep Library Paper}, journal = jdl, year = 2021}' }, thesis .. '/library.bib')
vim.fn.writefile({ '@misc{own2020, title = {Our Own}}' }, thesis .. '/refs.bib')
vim.fn.writefile({ '\\documentclass{article}', '\\begin{document}', 'As \\cite{lib2021deep} shows.',
  '\\bibliography{refs}', '\\end{document}' }, thesis .. '/main.tex')
local main = open(thesis .. '/main.tex', 'tex')
local warned = vim.wait(30000, function()
  for _, d in ipairs(vim.diagnostic.get(main)) do
    if d.code == 'not-in-bibliography' then
      return true
    end
  end
  return false
end, 50)
check('a library paper missing from refs.bib is warned about', warned,
  short(vim.inspect(vim.diagnostic.get(main))))
local at = pos_of(main, 'lib2021deep')
vim.api.nvim_win_set_cursor(0, { at.line + 1, at.character + 2 })
vim.lsp.buf.code_action({
  apply = true,
  filter = function(action)
    return action.title == 'Add lib2021deep to refs.bib'
  end,
})
local refs_text = ''
local added = vim.wait(15000, function()
  local refs = vim.fn.bufnr(thesis .. '/refs.bib')
  if refs == -1 then
    return false
  end
  refs_text = table.concat(vim.api.nvim_buf_get_lines(refs, 0, -1, false), '\n')
  return refs_text:find('@article{lib2021deep,', 1, true) ~= nil
end, 50)
check('"Add lib2021deep to refs.bib" adds the entry, macros expanded', added
  and refs_text:find('@misc{own2020, title = {Our Own}}\n\n@article{lib2021deep,', 1, true) ~= nil
  and refs_text:find('{Journal of Deep Libraries}', 1, true) ~= nil, short(refs_text))

-- :checkhealth paper-ls
vim.cmd('checkhealth paper-ls')
local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
say('  checkhealth: ' .. short(report, 600))
check(
  ':checkhealth paper-ls reports the server and the client',
  report:find('paper-ls 0', 1, true) ~= nil and report:find('papers', 1, true) ~= nil and not report:find('ERROR', 1, true)
)

tally.summary()
for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop(true)
end
os.exit(tally.failed == 0 and 0 or 1)
