// paper-ls for VS Code: starts the paper-ls language server for notes
// (Markdown, LaTeX, Quarto, R Markdown), passes its settings and offers the
// palette commands. Every feature lives in the server; this stays thin.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

const SECTION = 'paper-ls';
const INSTALL = 'pipx install paper-ls';

/** A paper as the server's `paper-ls.search` / `paper-ls.related` return it. */
interface Paper {
  key: string;
  title?: string;
  authors?: string[];
  year?: number | string | null;
  venue?: string | null;
  abstract?: string | null;
  location?: { uri: string; range: { start: { line: number; character: number } } } | null;
}

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
let extensionDir = '';
/** The binary the running client started, and where it came from. */
let serverBinary: { path: string; source: ServerSource } | undefined;

/** The documents the server is for. */
const LANGUAGES = ['markdown', 'latex', 'tex', 'quarto', 'rmd', 'typst'];
const LATEX_LANGUAGES = new Set(['latex', 'tex', 'plaintex', 'context']);

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionDir = context.extensionPath;
  output = vscode.window.createOutputChannel('paper-ls');
  context.subscriptions.push(output);
  const command = (id: string, run: () => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  };
  command('paperLs.searchCorpus', () => searchCorpus());
  command('paperLs.relatedPapers', () => relatedPapers());
  command('paperLs.literatureNote', () => literatureNote());
  command('paperLs.referenceList', () => referenceList());
  command('paperLs.showServerVersion', () => showServerVersion());
  command('paperLs.restartServer', () => restart());
  command('paperLs.reindex', () => reindex());
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration(`${SECTION}.server.path`)) {
        const choice = await vscode.window.showInformationMessage(
          'paper-ls: the server path changed.',
          'Restart server',
        );
        if (choice) {
          await restart();
        }
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

// ---------------------------------------------------------------- server

/** Where a server binary came from, as the output channel and "Show server version" say it. */
type ServerSource = 'setting' | 'bundled' | 'PATH' | 'pip' | 'cargo';
const SOURCE_TEXT: Record<ServerSource, string> = {
  setting: 'set in "paper-ls.server.path"',
  bundled: 'inside the extension',
  PATH: 'on PATH',
  pip: 'installed by pipx or pip --user',
  cargo: 'installed by cargo',
};

/**
 * Where the server binary is: the setting; else the binary a platform .vsix
 * carries in `server/`; else `paper-ls` on PATH; else the places pipx,
 * `pip --user` and cargo install to, which an editor started from a desktop
 * often lacks on its PATH.
 */
export function findServer(extensionDir: string): { path?: string; source?: ServerSource; tried: string[] } {
  const tried: string[] = [];
  const configured = (vscode.workspace.getConfiguration(SECTION).get<string>('server.path') ?? '').trim();
  if (configured) {
    const expanded = expand(configured);
    tried.push(expanded);
    return isExecutable(expanded) ? { path: expanded, source: 'setting', tried } : { tried };
  }
  const exe = process.platform === 'win32' ? 'paper-ls.exe' : 'paper-ls';
  const candidates: [string, ServerSource][] = [[path.join(extensionDir, 'server', exe), 'bundled']];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) {
      candidates.push([path.join(dir, exe), 'PATH']);
    }
  }
  candidates.push([path.join(os.homedir(), '.local', 'bin', exe), 'pip']);
  // pip --user elsewhere: ~/Library/Python/3.x/bin (macOS),
  // %APPDATA%\Python\Python3x\Scripts (Windows).
  const userPythons: [string, string][] = [[path.join(os.homedir(), 'Library', 'Python'), 'bin']];
  if (process.env.APPDATA) {
    userPythons.push([path.join(process.env.APPDATA, 'Python'), 'Scripts']);
  }
  for (const [dir, scripts] of userPythons) {
    for (const version of subfolders(dir)) {
      candidates.push([path.join(dir, version, scripts, exe), 'pip']);
    }
  }
  candidates.push([path.join(os.homedir(), '.cargo', 'bin', exe), 'cargo']);
  for (const [candidate, source] of candidates) {
    tried.push(candidate);
    if (source === 'bundled') {
      makeExecutable(candidate);
    }
    if (isExecutable(candidate)) {
      return { path: candidate, source, tried };
    }
  }
  return { tried };
}

/** The folders in `dir`, newest name first; none when it is not there. */
function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
      .reverse();
  } catch {
    return [];
  }
}

/** An archive tool that dropped the mode bits leaves the bundled binary unrunnable; give them back. */
function makeExecutable(p: string): void {
  if (process.platform === 'win32') {
    return;
  }
  try {
    const mode = fs.statSync(p).mode;
    if ((mode & 0o111) === 0) {
      fs.chmodSync(p, mode | 0o755);
    }
  } catch {
    // not there: not a platform build
  }
}

function expand(p: string): string {
  let out = p.replace(/^~(?=$|[/\\])/, os.homedir());
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder);
  }
  return out;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function settingsSection(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    corpus: c.get<string[]>('corpus', []),
    maxCompletions: c.get<number>('maxCompletions', 50),
    diagnosticsDelay: c.get<number>('diagnosticsDelay', 200),
    inlayHints: c.get<boolean>('inlayHints', true),
    literatureNotes: {
      folder: c.get<string>('literatureNotes.folder', 'literature'),
      template: c.get<string>('literatureNotes.template', ''),
    },
  };
}

async function start(): Promise<void> {
  const found = findServer(extensionDir);
  if (!found.path) {
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>('server.path');
    const message = configured
      ? `paper-ls: the server set in "paper-ls.server.path" (${found.tried[0]}) is not an executable file. ` +
        'Fix the setting, or empty it to use the server the extension finds.'
      : `paper-ls: cannot find the \`paper-ls\` server. Install it with \`${INSTALL}\` ` +
        '(or install the .vsix for your platform, which carries it), or set "paper-ls.server.path".';
    output?.appendLine(message);
    output?.appendLine(`looked at: ${found.tried.join(', ')}`);
    vscode.window.showErrorMessage(message, 'Copy install command', 'Open settings').then((choice) => {
      if (choice === 'Copy install command') {
        vscode.env.clipboard.writeText(INSTALL);
      } else if (choice === 'Open settings') {
        vscode.commands.executeCommand('workbench.action.openSettings', 'paper-ls.server.path');
      }
    });
    return;
  }
  const source = found.source ?? 'PATH';
  output?.appendLine(`starting ${found.path} (${SOURCE_TEXT[source]})`);
  const executable = { command: found.path, transport: TransportKind.stdio, options: { env: process.env } };
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const documentSelector = [
    ...LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    // Without a Typst extension (tinymist), VS Code knows no `typst` language.
    { scheme: 'file', pattern: '**/*.{qmd,Rmd,rmd,typ}' },
  ];
  const clientOptions: LanguageClientOptions = {
    documentSelector,
    initializationOptions: settingsSection(),
    synchronize: {
      configurationSection: SECTION,
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{paper-ls.toml,*.bib,*.bib.gz}'),
    },
    outputChannel: output,
  };
  client = new LanguageClient(SECTION, 'paper-ls', serverOptions, clientOptions);
  serverBinary = { path: found.path, source };
  try {
    await client.start();
    output?.appendLine(`running ${serverVersion() ?? 'paper-ls (version not reported)'} from ${found.path}`);
  } catch (e) {
    vscode.window.showErrorMessage(`paper-ls: the server did not start: ${String(e)}`);
  }
}

/** "paper-ls 0.1.0 (commit)" as the running server reported it in `initialize`. */
function serverVersion(): string | undefined {
  const info = client?.initializeResult?.serverInfo;
  return info ? `${info.name} ${info.version ?? ''}`.trim() : undefined;
}

async function showServerVersion(): Promise<void> {
  const version = serverVersion();
  if (!client || !serverBinary || !version) {
    const found = findServer(extensionDir);
    const where = found.path ? `found ${found.path} (${SOURCE_TEXT[found.source ?? 'PATH']})` : 'no binary found';
    vscode.window.showWarningMessage(`paper-ls: the server is not running; ${where}.`);
    return;
  }
  const text = `${version} — ${serverBinary.path} (${SOURCE_TEXT[serverBinary.source]})`;
  output?.appendLine(text);
  vscode.window.showInformationMessage(text);
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch {
      // already stopped
    }
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
  if (client) {
    vscode.window.setStatusBarMessage('paper-ls: server restarted', 3000);
  }
}

async function running(): Promise<LanguageClient | undefined> {
  if (!client) {
    vscode.window.showWarningMessage('paper-ls: the server is not running (see the paper-ls output).');
    return undefined;
  }
  if (client.state !== State.Running) {
    await client.start();
  }
  return client;
}

async function execute<T>(command: string, args: unknown[]): Promise<T | undefined> {
  const c = await running();
  if (!c) {
    return undefined;
  }
  return (await c.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
}

// ---------------------------------------------------------------- pickers

interface PaperItem extends vscode.QuickPickItem {
  paper: Paper;
}

const OPEN_BUTTON: vscode.QuickInputButton = {
  iconPath: new vscode.ThemeIcon('go-to-file'),
  tooltip: 'Open the entry',
};
const CITE_BUTTON: vscode.QuickInputButton = {
  iconPath: new vscode.ThemeIcon('quote'),
  tooltip: 'Insert the citation',
};

function item(p: Paper, button: vscode.QuickInputButton): PaperItem {
  const who = p.authors && p.authors.length > 0 ? p.authors[0] + (p.authors.length > 1 ? ' et al.' : '') : '';
  const detail = [who, p.year ? String(p.year) : '', p.venue ?? ''].filter((s) => s).join(' · ');
  return {
    label: p.title || p.key,
    description: p.key,
    detail: detail || undefined,
    alwaysShow: true, // the server filters, not the QuickPick
    buttons: [button],
    paper: p,
  };
}

type Action = 'cite' | 'open';

/**
 * A QuickPick of papers. `query` is called with the typed text (live
 * search) or once with '' (a fixed list); accepting runs `accept`, the item
 * button runs the other action.
 */
function pickPaper(
  title: string,
  query: (text: string) => Promise<Paper[] | undefined>,
  accept: Action,
  live: boolean,
): Promise<{ paper: Paper; action: Action } | undefined> {
  const other: Action = accept === 'cite' ? 'open' : 'cite';
  const button = other === 'open' ? OPEN_BUTTON : CITE_BUTTON;
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<PaperItem>();
    qp.title = title;
    qp.placeholder = live ? 'Type words of a title, an author, a topic or a key' : 'Choose a paper';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    let generation = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (r: { paper: Paper; action: Action } | undefined): void => {
      if (!done) {
        done = true;
        resolve(r);
        qp.hide();
      }
    };
    const refresh = (text: string): void => {
      const mine = ++generation;
      qp.busy = true;
      query(text).then(
        (papers) => {
          if (mine === generation) {
            qp.items = (papers ?? []).map((p) => item(p, button));
            qp.busy = false;
          }
        },
        (e: unknown) => {
          if (mine === generation) {
            qp.busy = false;
            output?.appendLine(`search failed: ${String(e)}`);
          }
        },
      );
    };
    if (live) {
      qp.onDidChangeValue((text) => {
        if (timer) {
          clearTimeout(timer);
        }
        if (!text.trim()) {
          generation++;
          qp.items = [];
          return;
        }
        timer = setTimeout(() => refresh(text), 120);
      });
    } else {
      refresh('');
    }
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
      if (chosen) {
        finish({ paper: chosen.paper, action: accept });
      }
    });
    qp.onDidTriggerItemButton((e) => finish({ paper: e.item.paper, action: other }));
    qp.onDidHide(() => {
      finish(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

// ---------------------------------------------------------------- citations

/** The citation of `key` to insert after `before`, in the document's syntax. */
export function citationText(key: string, languageId: string, before: string): string {
  if (languageId === 'typst') {
    return typstCitation(key, /@$/.test(before));
  }
  if (LATEX_LANGUAGES.has(languageId)) {
    if (/\\[A-Za-z]*cite[A-Za-z]*\*?[^\\{}]*\{[^{}]*$/.test(before)) {
      return /(\{|,)\s*$/.test(before) ? key : `, ${key}`;
    }
    return `\\cite{${key}}`;
  }
  if (/\[[^\]]*@[^\]]*$/.test(before)) {
    return /@$/.test(before) ? key : `; @${key}`;
  }
  if (/@$/.test(before)) {
    return key;
  }
  return `[@${key}]`;
}

/**
 * Typst: `@key` when the compiler reads the key as a label (letters,
 * digits, `_ - : .`, not ending in `.` or `:`), else `#cite(label("key"))`.
 */
export function typstCitation(key: string, afterAt: boolean): string {
  if (isTypstLabel(key)) {
    return afterAt ? key : `@${key}`;
  }
  return `#cite(label(${JSON.stringify(key)}))`;
}

function isTypstLabel(key: string): boolean {
  return /^[\p{L}\p{N}_\-:.]+$/u.test(key) && !/[.:]$/.test(key);
}

async function cite(editor: vscode.TextEditor, key: string): Promise<void> {
  await editor.edit((edit) => {
    for (const selection of editor.selections) {
      const line = editor.document.lineAt(selection.start.line).text;
      const before = line.slice(0, selection.start.character);
      const language = languageOf(editor.document);
      // A Typst key that is no label cannot follow the `@` typed: it goes.
      const dropAt = language === 'typst' && /@$/.test(before) && !isTypstLabel(key);
      const range = dropAt ? new vscode.Range(selection.start.translate(0, -1), selection.end) : selection;
      edit.replace(range, citationText(key, language, before));
    }
  });
}

async function openPaper(p: Paper): Promise<void> {
  if (!p.location) {
    vscode.window.showWarningMessage(`paper-ls: no entry to open for ${p.key}`);
    return;
  }
  const uri = vscode.Uri.parse(p.location.uri);
  const pos = new vscode.Position(p.location.range.start.line, p.location.range.start.character);
  await vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true });
}

/** The document's language, `typst` for a `.typ` file VS Code has no language for. */
function languageOf(doc: vscode.TextDocument): string {
  return /\.typ$/i.test(doc.fileName) ? 'typst' : doc.languageId;
}

/** The editor to cite in: the active one if it is a note. */
function noteEditor(): vscode.TextEditor | undefined {
  const e = vscode.window.activeTextEditor;
  if (!e) {
    return undefined;
  }
  return LANGUAGES.includes(e.document.languageId) || /\.(md|markdown|qmd|rmd|tex|typ)$/i.test(e.document.fileName)
    ? e
    : undefined;
}

/** The citation key at the cursor (`@key`, `[@key]`, `\cite{a, key}`), or the selection. */
function keyAtCursor(editor: vscode.TextEditor | undefined): string | undefined {
  if (!editor) {
    return undefined;
  }
  const doc = editor.document;
  if (!editor.selection.isEmpty) {
    return doc.getText(editor.selection).trim().replace(/^@/, '') || undefined;
  }
  const range = doc.getWordRangeAtPosition(editor.selection.active, /[\w\-:.#$%&+?<>~/]+/);
  if (!range) {
    return undefined;
  }
  const key = doc.getText(range).replace(/[.:,;?]+$/, '');
  return key || undefined;
}

// ---------------------------------------------------------------- commands

const LIMIT = 50;

async function searchCorpus(): Promise<void> {
  const editor = noteEditor();
  const choice = await pickPaper(
    'Paper: Search corpus',
    (text) => execute<Paper[]>('paper-ls.search', [text, LIMIT]),
    editor ? 'cite' : 'open',
    true,
  );
  if (!choice) {
    return;
  }
  if (choice.action === 'cite' && editor) {
    await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    await cite(editor, choice.paper.key);
  } else if (choice.action === 'cite') {
    await vscode.env.clipboard.writeText(choice.paper.key);
    vscode.window.setStatusBarMessage(`paper-ls: copied ${choice.paper.key}`, 3000);
  } else {
    await openPaper(choice.paper);
  }
}

async function relatedPapers(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  let key = keyAtCursor(editor);
  if (!key) {
    key = await vscode.window.showInputBox({ prompt: 'Related papers of which key?' });
  }
  if (!key) {
    return;
  }
  const wanted = key;
  let related: Paper[] | undefined;
  try {
    related = await execute<Paper[]>('paper-ls.related', [wanted, LIMIT]);
  } catch (e) {
    // Not a key (a paper title, say): the server's go-to-implementation
    // lists the related papers of what is under the cursor.
    if (editor && editor.selection.isEmpty) {
      await vscode.commands.executeCommand('editor.action.goToImplementation');
      return;
    }
    vscode.window.showWarningMessage(`paper-ls: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const choice = await pickPaper(`Papers related to ${wanted}`, async () => related, 'open', false);
  if (!choice) {
    return;
  }
  const target = noteEditor();
  if (choice.action === 'cite' && target) {
    await cite(target, choice.paper.key);
  } else {
    await openPaper(choice.paper);
  }
}

async function literatureNote(): Promise<void> {
  let key = keyAtCursor(vscode.window.activeTextEditor);
  if (!key) {
    const choice = await pickPaper(
      'Paper: Create literature note — which paper?',
      (text) => execute<Paper[]>('paper-ls.search', [text, LIMIT]),
      'cite',
      true,
    );
    key = choice?.paper.key;
  }
  if (!key) {
    return;
  }
  try {
    // The server writes the note and asks VS Code to show it.
    const result = await execute<{ path: string; created: boolean }>('paper-ls.literatureNote', [key]);
    if (result) {
      vscode.window.setStatusBarMessage(`paper-ls: ${result.created ? 'created' : 'opened'} ${result.path}`, 5000);
    }
  } catch (e) {
    vscode.window.showErrorMessage(`paper-ls: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The note's reference list, in its style, as a new Markdown document to copy from. */
async function referenceList(): Promise<void> {
  const editor = noteEditor();
  if (!editor) {
    vscode.window.showInformationMessage('paper-ls: open a note first');
    return;
  }
  try {
    const result = await execute<{ style: string; markdown: string }>('paper-ls.referenceList', [
      editor.document.uri.toString(),
    ]);
    if (!result) {
      return;
    }
    const name = path.basename(editor.document.uri.path);
    const content = result.markdown
      ? `# References of ${name} (${result.style})\n\n${result.markdown}\n`
      : `# References of ${name} (${result.style})\n\nThe note cites no paper of the corpus.\n`;
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  } catch (e) {
    vscode.window.showErrorMessage(`paper-ls: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function reindex(): Promise<void> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'paper-ls: reindexing the corpus' },
    () => execute<{ papers: number }>('paper-ls.reindex', []),
  );
  if (result) {
    vscode.window.showInformationMessage(`paper-ls: reindexed ${result.papers} papers`);
  }
}
