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

local function is_windows()
  return vim.fn.has('win32') == 1
end

local function exe_name()
  return is_windows() and 'paper-ls.exe' or 'paper-ls'
end

local function home()
  return vim.env.HOME or vim.loop.os_homedir()
end

local function join(...)
  return table.concat({ ... }, '/')
end

--- Where a server might be, in the order they are looked at: Mason's bin
--- folder (Mason links what it installs there), PATH, the folders pipx and
--- `pip install --user` put commands in (an editor started from a desktop
--- often lacks them on PATH), and cargo's.
local function candidates()
  local exe = exe_name()
  local list = {}
  local function add(path, source)
    if path and path ~= '' then
      table.insert(list, { path = path, source = source })
    end
  end
  local mason = vim.env.MASON
  if mason == nil or mason == '' then
    mason = join(vim.fn.stdpath('data'), 'mason')
  end
  -- Mason links a command as bin/paper-ls, or bin/paper-ls.cmd on Windows.
  add(join(mason, 'bin', is_windows() and 'paper-ls.cmd' or exe), 'Mason')
  -- exepath honours PATHEXT on Windows (paper-ls.exe, .cmd).
  add(vim.fn.exepath('paper-ls'), 'PATH')
  add(vim.env.PIPX_BIN_DIR and join(vim.env.PIPX_BIN_DIR, exe), 'pipx')
  add(join(home(), '.local', 'bin', exe), 'pipx or pip --user')
  -- pip --user elsewhere: ~/Library/Python/3.x/bin (macOS),
  -- %APPDATA%\Python\Python3x\Scripts (Windows).
  for _, p in ipairs(vim.fn.glob(join(home(), 'Library', 'Python', '*', 'bin', exe), false, true)) do
    add(p, 'pip --user')
  end
  if vim.env.APPDATA then
    for _, p in ipairs(vim.fn.glob(join(vim.env.APPDATA, 'Python', '*', 'Scripts', exe), false, true)) do
      add(p, 'pip --user')
    end
  end
  local cargo_home = vim.env.CARGO_HOME
  if cargo_home == nil or cargo_home == '' then
    cargo_home = join(home(), '.cargo')
  end
  add(join(cargo_home, 'bin', exe), 'cargo')
  return list
end

--- The server binaries found, best first: { path = ..., source = ... }.
--- An explicit `cmd` (or $PAPER_LS_SERVER) is the only one when set.
function M.find_servers()
  local env = vim.env.PAPER_LS_SERVER
  if env and env ~= '' then
    return { { path = env, source = '$PAPER_LS_SERVER' } }
  end
  local cmd = M.config.cmd
  if type(cmd) == 'string' then
    cmd = { cmd }
  end
  if cmd and cmd[1] then
    local path = vim.fn.exepath(cmd[1])
    return { { path = path ~= '' and path or cmd[1], source = 'setup{ cmd }' } }
  end
  local found, seen = {}, {}
  for _, c in ipairs(candidates()) do
    local real = vim.loop.fs_realpath(c.path)
    if real and vim.fn.executable(c.path) == 1 and not seen[real] then
      seen[real] = true
      table.insert(found, c)
    end
  end
  return found
end

--- The server command as a list.
function M.cmd()
  local env = vim.env.PAPER_LS_SERVER
  if env and env ~= '' then
    return { env }
  end
  local cmd = M.config.cmd
  if type(cmd) == 'string' then
    cmd = { cmd }
  end
  if cmd then
    return cmd
  end
  local best = M.find_servers()[1]
  return { best and best.path or 'paper-ls' }
end

--- `paper-ls --version` of a binary, or nil and the error.
function M.server_version(path)
  if vim.fn.executable(path) ~= 1 then
    return nil, 'not an executable file'
  end
  local ok, out = pcall(vim.fn.system, { path, '--version' })
  if not ok then
    return nil, tostring(out)
  end
  if vim.v.shell_error ~= 0 then
    return nil, vim.trim(out)
  end
  return vim.trim(out)
end

M.install_hint = 'pipx install paper-ls  (or :MasonInstall paper-ls, pip install --user paper-ls, cargo install)'

--- Installs the server with pipx, else `python -m pip install --user`, when
--- none is found; for lazy.nvim's `build`. opts.source: what to install
--- (default "paper-ls" from PyPI; a wheel file or a checkout also do);
--- opts.force: install even when a server is found. Returns true on success.
function M.install(opts)
  opts = opts or {}
  local found = M.find_servers()[1]
  if found and not opts.force then
    notify(string.format('the server is already installed: %s (%s)', found.path, found.source))
    return true
  end
  local source = opts.source or vim.env.PAPER_LS_PIP_SOURCE
  if source == nil or source == '' then
    source = 'paper-ls'
  end
  local cmd
  if vim.fn.executable('pipx') == 1 then
    cmd = { 'pipx', 'install', '--force', source }
  else
    local python = vim.fn.executable('python3') == 1 and 'python3' or (vim.fn.executable('python') == 1 and 'python')
    if not python then
      notify('cannot install the server: neither pipx nor Python is on PATH. ' .. M.install_hint, vim.log.levels.ERROR)
      return false
    end
    cmd = { python, '-m', 'pip', 'install', '--user', '--upgrade', source }
  end
  notify('installing the server: ' .. table.concat(cmd, ' '))
  local out = vim.fn.system(cmd)
  if vim.v.shell_error ~= 0 then
    notify(
      'installing the server failed (' .. table.concat(cmd, ' ') .. '):\n' .. vim.trim(out),
      vim.log.levels.ERROR
    )
    return false
  end
  local now = M.find_servers()[1]
  if not now then
    notify('installed, but no paper-ls is found where pipx and pip put commands', vim.log.levels.ERROR)
    return false
  end
  notify(string.format('installed %s (%s)', now.path, M.server_version(now.path) or '?'))
  return true
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
      "cannot find the server `%s`. Install it: %s; or point setup{ cmd = { '/path/to/paper-ls' } } at it.",
      cmd[1],
      M.install_hint
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
