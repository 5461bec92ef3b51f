-- :PaperSearch, :PaperRelated, :PaperNote, :PaperReindex. Pickers go
-- through vim.ui.select and vim.ui.input, so telescope-ui-select, fzf-lua,
-- snacks or dressing show their own picker.

local paper = require('paper-ls')

local M = {}

local function notify(msg, level)
  vim.notify('paper-ls: ' .. msg, level or vim.log.levels.INFO)
end

local function error_text(err)
  if type(err) == 'table' then
    return err.message or vim.inspect(err)
  end
  return tostring(err)
end

--- One line per paper in a picker.
function M.format_paper(p)
  local parts = { p.key, ' — ', p.title or '' }
  if p.year then
    parts[#parts + 1] = ' (' .. tostring(p.year) .. ')'
  end
  if type(p.authors) == 'table' and #p.authors > 0 then
    local a = p.authors[1]
    if #p.authors > 1 then
      a = a .. ' et al.'
    end
    parts[#parts + 1] = ' · ' .. a
  end
  return table.concat(parts)
end

local KEY_CHAR = '[%w_%-:%.#%$%%&%+%?<>~/]'

--- The citation key under the cursor (`@key`, `[@key]`, `\cite{a, key}`), or nil.
function M.key_under_cursor()
  local line = vim.api.nvim_get_current_line()
  local col = vim.api.nvim_win_get_cursor(0)[2] + 1
  if line == '' then
    return nil
  end
  local c = line:sub(col, col)
  if c == '@' or c == '{' or c == '[' then
    col = col + (line:sub(col + 1, col + 1) == '@' and 2 or 1)
  end
  if not line:sub(col, col):match(KEY_CHAR) then
    return nil
  end
  local s, e = col, col
  while s > 1 and line:sub(s - 1, s - 1):match(KEY_CHAR) do
    s = s - 1
  end
  while e < #line and line:sub(e + 1, e + 1):match(KEY_CHAR) do
    e = e + 1
  end
  local key = line:sub(s, e):gsub('[%.:,;%?]+$', '')
  if key == '' then
    return nil
  end
  return key
end

--- Whether Typst reads `key` as a label (so `@key` cites it): letters,
--- digits, `_ - : .` (any non-ASCII letter), not ending in `.` or `:`.
function M.is_typst_label(key)
  return key:match('^[%w_%-:%.\128-\255]+$') ~= nil and key:match('[.:]$') == nil
end

--- The citation text to insert after `before` (the line up to the cursor).
function M.citation_text(key, filetype, before)
  before = before or ''
  if filetype == 'typst' then
    if not M.is_typst_label(key) then
      return '#cite(label(' .. vim.json.encode(key) .. '))'
    end
    return before:match('@$') and key or ('@' .. key)
  end
  if filetype == 'tex' or filetype == 'latex' or filetype == 'plaintex' then
    if before:match('\\%a*cite%a*%*?[^\\{}]*{[^{}]*$') then
      if before:match('{%s*$') or before:match(',%s*$') then
        return key
      end
      return ', ' .. key
    end
    return '\\cite{' .. key .. '}'
  end
  if before:match('%[[^%]]*@[^%]]*$') then
    if before:match('@$') then
      return key
    end
    return '; @' .. key
  end
  if before:match('@$') then
    return key
  end
  return '[@' .. key .. ']'
end

--- Inserts a paper's citation after the cursor, in the buffer's syntax.
function M.insert_citation(key)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_get_current_line()
  local at = math.min(#line, col + 1) -- after the character under the cursor
  if vim.fn.mode():sub(1, 1) == 'i' then
    at = col
  end
  local before = line:sub(1, at)
  local text = M.citation_text(key, vim.bo.filetype, before)
  local from = at
  -- A Typst key that is no label cannot follow the `@` typed: it goes.
  if vim.bo.filetype == 'typst' and before:match('@$') and not M.is_typst_label(key) then
    from = at - 1
  end
  vim.api.nvim_buf_set_text(0, row - 1, from, row - 1, at, { text })
  vim.api.nvim_win_set_cursor(0, { row, from + #text - 1 })
end

--- Opens a paper's entry (an LSP Location).
function M.open_paper(p)
  local loc = p.location
  if type(loc) ~= 'table' or not loc.uri then
    notify('no location for ' .. p.key, vim.log.levels.WARN)
    return
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.uri_to_fname(loc.uri)))
  local pos = loc.range and loc.range.start or { line = 0, character = 0 }
  local text = vim.api.nvim_buf_get_lines(0, pos.line, pos.line + 1, false)[1] or ''
  local ok, byte = pcall(vim.str_byteindex, text, pos.character, true)
  vim.api.nvim_win_set_cursor(0, { pos.line + 1, ok and byte or pos.character })
end

local function pick(papers, prompt, on_choice)
  if type(papers) ~= 'table' or #papers == 0 then
    notify('no paper found', vim.log.levels.INFO)
    return
  end
  vim.ui.select(papers, { prompt = prompt, kind = 'paper-ls.paper', format_item = M.format_paper }, function(choice)
    if choice then
      on_choice(choice)
    end
  end)
end

--- :PaperSearch [words] — search the corpus; insert the chosen paper's
--- citation (with !, open its entry instead).
function M.search(query, open)
  local function run(q)
    if not q or vim.trim(q) == '' then
      return
    end
    local win = vim.api.nvim_get_current_win()
    paper.execute('paper-ls.search', { q, paper.config.limit }, function(err, result)
      if err then
        notify('search failed: ' .. error_text(err), vim.log.levels.ERROR)
        return
      end
      pick(result, 'Papers matching "' .. q .. '"', function(choice)
        if vim.api.nvim_win_is_valid(win) then
          vim.api.nvim_set_current_win(win)
        end
        if open then
          M.open_paper(choice)
        else
          M.insert_citation(choice.key)
        end
      end)
    end)
  end
  if query and query ~= '' then
    run(query)
  else
    vim.ui.input({ prompt = 'Search papers: ' }, run)
  end
end

--- :PaperRelated [key] — the papers most related to a key (by default the
--- one under the cursor); the chosen one's entry opens (with !, its
--- citation is inserted instead). On a paper title rather than a key, the
--- server's go-to-implementation lists the related papers.
function M.related(key, insert)
  key = (key and key ~= '') and key or M.key_under_cursor()
  if not key then
    vim.lsp.buf.implementation()
    return
  end
  local win = vim.api.nvim_get_current_win()
  paper.execute('paper-ls.related', { key, paper.config.limit }, function(err, result)
    if err then
      -- Not a key (a word of a title, say): ask the server about the position.
      if not insert and vim.api.nvim_get_current_win() == win then
        vim.lsp.buf.implementation()
        return
      end
      notify('related papers: ' .. error_text(err), vim.log.levels.WARN)
      return
    end
    pick(result, 'Papers related to ' .. key, function(choice)
      if insert then
        M.insert_citation(choice.key)
      else
        M.open_paper(choice)
      end
    end)
  end)
end

--- :PaperNote [key] — create (or open) the paper's literature note.
function M.note(key)
  key = (key and key ~= '') and key or M.key_under_cursor()
  if not key then
    notify('no citation key under the cursor; use :PaperNote KEY', vim.log.levels.WARN)
    return
  end
  paper.execute('paper-ls.literatureNote', { key }, function(err, result)
    if err then
      notify('literature note: ' .. error_text(err), vim.log.levels.ERROR)
    elseif type(result) == 'table' and result.path then
      notify((result.created and 'created ' or 'opened ') .. result.path)
    end
  end)
end

--- :PaperReferences — the current note's reference list, in its style, in
--- a Markdown scratch buffer split beside it (to copy from).
function M.references()
  local buf = vim.api.nvim_get_current_buf()
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ':t')
  paper.execute('paper-ls.referenceList', { vim.uri_from_bufnr(buf) }, function(err, result)
    if err then
      notify('reference list: ' .. error_text(err), vim.log.levels.ERROR)
      return
    end
    local lines = { string.format('# References of %s (%s)', name, result.style or '?'), '' }
    if not result.markdown or result.markdown == '' then
      table.insert(lines, 'The note cites no paper of the corpus.')
    else
      vim.list_extend(lines, vim.split(result.markdown, '\n', { plain = true }))
    end
    vim.cmd('vnew')
    local out = vim.api.nvim_get_current_buf()
    vim.bo[out].buftype = 'nofile'
    vim.bo[out].bufhidden = 'wipe'
    vim.bo[out].filetype = 'markdown'
    vim.api.nvim_buf_set_lines(out, 0, -1, false, lines)
  end)
end

--- :PaperReindex — read every corpus again.
function M.reindex()
  paper.execute('paper-ls.reindex', {}, function(err, result)
    if err then
      notify('reindex: ' .. error_text(err), vim.log.levels.ERROR)
    else
      notify(string.format('reindexed %d papers', result and result.papers or 0))
    end
  end)
end

function M.create()
  local cmd = vim.api.nvim_create_user_command
  cmd('PaperSearch', function(o)
    M.search(o.args, o.bang)
  end, { nargs = '*', bang = true, desc = 'paper-ls: search the corpus and cite (! opens the entry)' })
  cmd('PaperRelated', function(o)
    M.related(o.args, o.bang)
  end, { nargs = '?', bang = true, desc = 'paper-ls: papers related to the key under the cursor (! cites)' })
  cmd('PaperNote', function(o)
    M.note(o.args)
  end, { nargs = '?', desc = 'paper-ls: create the literature note of a paper' })
  cmd('PaperReferences', function()
    M.references()
  end, { nargs = 0, desc = "paper-ls: the note's reference list in its citation style" })
  cmd('PaperReindex', function()
    M.reindex()
  end, { nargs = 0, desc = 'paper-ls: read every corpus again' })
end

return M
