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
  local found = paper.find_servers()
  if #found == 0 then
    h.error('no `paper-ls` found (looked in Mason, PATH, pipx, pip --user and cargo folders)', {
      'pipx install paper-ls',
      ':MasonInstall paper-ls   (with the registry in editors/nvim/mason, see its README)',
      "lazy.nvim: build = function() require('paper-ls').install() end",
      "or setup{ cmd = { '/path/to/paper-ls' } }",
    })
  end
  for i, s in ipairs(found) do
    local version, err = paper.server_version(s.path)
    local what = string.format('%s (%s)', s.path, s.source)
    if i == 1 and version then
      h.ok('using ' .. what .. ': ' .. version)
    elseif i == 1 then
      h.error('using ' .. what .. ', but `--version` failed: ' .. (err or ''))
    else
      h.info('also found ' .. what .. ': ' .. (version or 'does not run'))
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
