-- :checkhealth paper-ls

local M = {}

local function reporter()
  local h = vim.health or require('health')
  return {
    start = h.start or h.report_start,
    ok = h.ok or h.report_ok,
    warn = h.warn or h.report_warn,
    error = h.error or h.report_error,
    info = h.info or h.report_info,
  }
end

function M.check()
  local h = reporter()
  local paper = require('paper-ls')

  h.start('Neovim')
  local version = paper.version_string()
  if vim.fn.has('nvim-0.11') == 1 then
    h.ok('Neovim ' .. version .. ': vim.lsp.config + vim.lsp.enable')
  elseif vim.fn.has('nvim-0.8') == 1 then
    h.ok('Neovim ' .. version .. ': vim.lsp.start (0.11+ recommended)')
  else
    h.error('Neovim ' .. version .. ' is too old: paper-ls needs 0.8 or later')
  end

  h.start('Server')
  local cmd = paper.cmd()
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    h.error(
      '`' .. cmd[1] .. '` not found',
      { 'cargo install --path server   (in the paper-ls repository)', "or setup{ cmd = { '/path/to/paper-ls' } }" }
    )
  else
    local out = vim.fn.system({ exe, '--version' })
    if vim.v.shell_error == 0 then
      h.ok(exe .. ': ' .. vim.trim(out))
    else
      h.warn(exe .. ' --version failed: ' .. vim.trim(out))
    end
  end

  h.start('Clients')
  local clients = paper.clients()
  if #clients == 0 then
    h.info('no paper-ls client running (open a ' .. table.concat(paper.config.filetypes, '/') .. ' file)')
  end
  for _, client in ipairs(clients) do
    local root = client.config and client.config.root_dir or '(single file)'
    h.ok(string.format('client %d, root %s', client.id, tostring(root)))
    local ok, resp = pcall(function()
      if vim.fn.has('nvim-0.11') == 1 then
        return client:request_sync('paper-ls/status', nil, 2000)
      end
      return client.request_sync('paper-ls/status', nil, 2000)
    end)
    local status = ok and resp and resp.result
    if type(status) == 'table' then
      for _, c in ipairs(status.corpora or {}) do
        h.info(
          string.format(
            '%s: %d papers, %d problems%s',
            table.concat(c.sources or {}, ', '),
            c.papers or 0,
            c.problems or 0,
            c.indexed and '' or ' (indexing)'
          )
        )
      end
    end
  end
end

return M
