-- paper-ls for Neovim: starts the paper-ls language server for notes
-- (Markdown, LaTeX, Quarto, R Markdown) and offers :PaperSearch,
-- :PaperRelated, :PaperNote and :PaperReindex.
--
-- Neovim 0.11+: vim.lsp.config + vim.lsp.enable.
-- Neovim 0.8-0.10: vim.lsp.start from a FileType autocommand.
-- Older: a message saying a newer Neovim is needed, and nothing else.
--
-- The client is thin on purpose: every feature lives in the server.

local M = {}

M.name = 'paper_ls'

M.defaults = {
  -- The server command; `paper-ls` on PATH unless set (e.g. to
  -- { '/path/to/target/debug/paper-ls' }). $PAPER_LS_SERVER overrides it too.
  cmd = nil,
  filetypes = { 'markdown', 'tex', 'plaintex', 'quarto', 'rmd', 'typst' },
  -- The workspace root is the nearest folder with one of these.
  root_markers = { 'paper-ls.toml', '.git' },
  -- The server's settings (section `paper-ls`): corpus, maxCompletions,
  -- diagnosticsDelay, inlayHints, literatureNotes = { folder, template }.
  settings = {},
  -- Create :PaperSearch, :PaperRelated, :PaperNote, :PaperReindex.
  commands = true,
  -- How many papers the pickers list.
  limit = 50,
  -- Passed to the LSP client as is (on_attach, capabilities, handlers, ...).
  on_attach = nil,
  capabilities = nil,
}

M.config = vim.deepcopy(M.defaults)

local function notify(msg, level)
  vim.notify('paper-ls: ' .. msg, level or vim.log.levels.INFO)
end

local function has(feature)
  return vim.fn.has(feature) == 1
end

local function version_string()
  local v = vim.version and vim.version() or nil
  if type(v) == 'table' and v.major then
    return string.format('%d.%d.%d', v.major, v.minor, v.patch)
  end
  local out = vim.api.nvim_exec('version', true)
  return (out:match('NVIM v([%d%.]+)')) or 'unknown'
end
M.version_string = version_string

--- The server command as a list.
function M.cmd()
  local cmd = M.config.cmd
  local env = vim.env.PAPER_LS_SERVER
  if env and env ~= '' then
    cmd = { env }
  end
  if type(cmd) == 'string' then
    cmd = { cmd }
  end
  return cmd or { 'paper-ls' }
end

local function lsp_settings()
  return { ['paper-ls'] = M.config.settings or {} }
end

local function client_config()
  return {
    name = M.name,
    cmd = M.cmd(),
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    settings = lsp_settings(),
    init_options = M.config.settings or {},
    on_attach = M.config.on_attach,
    capabilities = M.config.capabilities,
  }
end

-- Neovim 0.8-0.10: the workspace root of a buffer.
local function find_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fs.dirname(name) or vim.loop.cwd()
  local found = vim.fs.find(M.config.root_markers, { upward = true, path = dir })[1]
  return found and vim.fs.dirname(found) or dir
end

local function start_legacy(bufnr)
  local cfg = client_config()
  cfg.filetypes = nil
  cfg.root_markers = nil
  cfg.root_dir = find_root(bufnr)
  vim.lsp.start(cfg, { bufnr = bufnr })
end

local function server_missing()
  local cmd = M.cmd()
  if vim.fn.executable(cmd[1]) == 1 then
    return false
  end
  notify(
    string.format(
      "cannot find the server `%s`. Install it with `cargo install --path server` in the paper-ls repository, "
        .. "or point setup{ cmd = { '/path/to/paper-ls' } } at it.",
      cmd[1]
    ),
    vim.log.levels.ERROR
  )
  return true
end

--- Configures and enables the language server. Returns true when it did.
function M.setup(opts)
  opts = opts or {}
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  -- Lists replace the defaults rather than merging with them by index.
  for _, k in ipairs({ 'cmd', 'filetypes', 'root_markers' }) do
    if opts[k] ~= nil then
      M.config[k] = opts[k]
    end
  end
  if not has('nvim-0.8') then
    notify(
      'needs a newer Neovim: 0.8 or later (0.11+ recommended); this is Neovim '
        .. version_string()
        .. '. The server was not started.',
      vim.log.levels.WARN
    )
    return false
  end
  server_missing() -- a message now; the client still tries, in case PATH changes
  if has('nvim-0.11') then
    vim.lsp.config(M.name, client_config())
    vim.lsp.enable(M.name)
  else
    local group = vim.api.nvim_create_augroup('paper-ls', { clear = true })
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = M.config.filetypes,
      callback = function(args)
        start_legacy(args.buf)
      end,
    })
    -- Buffers already open when setup runs.
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(M.config.filetypes, vim.bo[buf].filetype) then
        start_legacy(buf)
      end
    end
  end
  if M.config.commands then
    require('paper-ls.commands').create()
  end
  return true
end

--- The paper-ls clients attached to a buffer (0 = current), or all of them.
function M.clients(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local found = get({ name = M.name, bufnr = bufnr })
  if bufnr and #found == 0 then
    found = get({ name = M.name })
  end
  return found
end

--- client:request across Neovim versions.
function M.request(client, method, params, handler, bufnr)
  if has('nvim-0.11') then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Runs a server command (`paper-ls.search`, ...) and calls back with
--- (err, result).
function M.execute(command, arguments, callback)
  local client = M.clients(0)[1]
  if not client then
    notify('the server is not running for this buffer', vim.log.levels.WARN)
    return false
  end
  return M.request(client, 'workspace/executeCommand', { command = command, arguments = arguments }, function(err, result)
    callback(err, result)
  end, vim.api.nvim_get_current_buf())
end

return M
