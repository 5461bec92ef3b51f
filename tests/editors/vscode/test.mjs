// VS Code test of editors/vscode: code-server 4.100.3 (VS Code 1.100.3)
// with the packaged paper-ls.vsix installed, driven through headless
// Chromium by playwright-core as a person would use it: open a note, hover
// a citation key and a paper title and read the real hover widget, type
// `[@gro` and read the suggest widget, run "Paper: Search corpus" and
// "Paper: Reference list of this note" from the command palette.
// Screenshots go to $OUT.
//
// node tests/editors/vscode/test.mjs
// Environment: REPO, PAPER_LS_BIN, VSIX, OUT, WORK, PAPER_LS_CACHE_DIR.
//
// BUNDLED=1: the platform .vsix (VSIX) with the server inside, on a machine
// where it is not installed: no "paper-ls.server.path", and a PATH and HOME
// with no paper-ls and no cargo (run.sh sets them). Only the hover on a key
// and "Paper: Show server version" are checked then.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};
const BUNDLED = process.env.BUNDLED === '1';
const SUITE = BUNDLED ? 'vscode-bundled' : 'vscode';
const SERVER = BUNDLED ? '' : env('PAPER_LS_BIN');
const VSIX = env('VSIX');
const OUT = env('OUT');
const WORK = env('WORK');
const TOTAL_MS = Number(process.env.VSCODE_TEST_TIMEOUT_MS ?? 300000);

const KEY = 'grokfast-accelerated-grokking';
const TITLE = 'Grokfast: Accelerated Grokking by Amplifying Slow Gradients';
const ABSTRACT = 'One puzzling artifact in machine learning dubbed grokking';
const GROKKING = ['grokfast-accelerated-grokking', 'grokking-tickets-lottery', 'grokking-edge-numerical'];

let passed = 0;
let failed = 0;
const say = (s) => console.log(s);
const check = (name, ok, detail) => {
  if (ok) {
    passed++;
    say(`PASS ${SUITE}: ${name}`);
  } else {
    failed++;
    say(`FAIL ${SUITE}: ${name}${detail ? ` — ${detail}` : ''}`);
  }
};
const short = (s, n = 300) => {
  const t = String(s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ workspace
const userData = path.join(WORK, 'user-data');
const extensions = path.join(WORK, 'extensions');
const ws = path.join(WORK, 'workspace');
for (const d of [path.join(userData, 'User'), extensions, path.join(ws, '.git'), OUT]) {
  fs.mkdirSync(d, { recursive: true });
}
fs.writeFileSync(
  path.join(ws, 'note.md'),
  [
    '# Reading notes',
    '',
    `Slow-gradient amplification [@${KEY}] speeds up grokking.`,
    '',
    `Today I read ${TITLE} and liked it.`,
    '',
    'More on this: ',
    '',
  ].join('\n'),
);
fs.writeFileSync(
  path.join(ws, 'chapter.tex'),
  ['\\documentclass{article}', '\\begin{document}', `Grokking speeds up \\cite{${KEY}}.`, '\\end{document}', ''].join(
    '\n',
  ),
);
// A Typst paper: VS Code has no Typst language without an extension, so
// this also checks the extension starts the server for `.typ` by pattern.
fs.writeFileSync(
  path.join(ws, 'paper.typ'),
  ['= Reading notes', '', `Slow-gradient amplification @${KEY} speeds up grokking.`, ''].join('\n'),
);
// The user's settings: the extension's setting points at the debug binary,
// or, for the platform .vsix, is not there at all.
fs.writeFileSync(
  path.join(userData, 'User', 'settings.json'),
  JSON.stringify(
    {
      ...(BUNDLED ? {} : { 'paper-ls.server.path': SERVER }),
      'paper-ls.diagnosticsDelay': 50,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'security.workspace.trust.enabled': false,
      'extensions.ignoreRecommendations': true,
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
      'telemetry.telemetryLevel': 'off',
      'editor.hover.delay': 200,
      'editor.minimap.enabled': false,
      'editor.wordWrap': 'off',
      'workbench.colorTheme': 'Default Light Modern',
      'chat.disableAIFeatures': true,
    },
    null,
    2,
  ),
);

if (BUNDLED) {
  // What the user's machine has: no paper-ls anywhere the extension looks
  // but inside itself.
  const onPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .flatMap((d) => ['paper-ls', 'cargo'].map((exe) => path.join(d, exe)))
    .filter((p) => fs.existsSync(p));
  const home = process.env.HOME ?? '';
  const inHome = ['.cargo/bin/paper-ls', '.local/bin/paper-ls']
    .map((p) => path.join(home, p))
    .filter((p) => fs.existsSync(p));
  check('PATH and HOME hold no paper-ls and no cargo', onPath.length === 0 && inHome.length === 0, [...onPath, ...inHome].join(', '));
}

// ------------------------------------------------------------ code-server
const codeServerArgs = [
  '--auth',
  'none',
  '--disable-telemetry',
  '--disable-update-check',
  '--disable-workspace-trust',
  '--user-data-dir',
  userData,
  '--extensions-dir',
  extensions,
];

say(`  installing ${VSIX}`);
try {
  const out = execFileSync('code-server', [...codeServerArgs, '--install-extension', VSIX], {
    encoding: 'utf8',
    timeout: 120000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  say(`  ${short(out)}`);
  const listed = execFileSync('code-server', [...codeServerArgs, '--list-extensions', '--show-versions'], {
    encoding: 'utf8',
    timeout: 60000,
  });
  check('the .vsix installs in code-server', /paper-ls\.paper-ls@/.test(listed), short(listed));
} catch (e) {
  check('the .vsix installs in code-server', false, short(`${e.stdout ?? ''} ${e.stderr ?? ''} ${e.message}`));
}

const port = await new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const logFile = path.join(OUT, 'code-server.log');
const log = fs.openSync(logFile, 'w');
const cs = spawn('code-server', ['--bind-addr', `127.0.0.1:${port}`, ...codeServerArgs, ws], {
  stdio: ['ignore', log, log],
  detached: true,
  env: process.env,
});
let browser;
const cleanup = async () => {
  try {
    await browser?.close();
  } catch {
    // gone
  }
  try {
    process.kill(-cs.pid, 'SIGTERM');
  } catch {
    // gone
  }
};
const extensionLogs = () => {
  // The paper-ls output channel and the extension host's log, for failures.
  const found = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
      } else if (/paper-ls|exthost|remoteexthost/i.test(e.name)) {
        found.push(p);
      }
    }
  };
  try {
    walk(path.join(userData, 'logs'));
  } catch {
    // no logs
  }
  for (const f of found) {
    const text = fs.readFileSync(f, 'utf8').trim().split('\n').slice(-15).join('\n    ');
    say(`  --- ${path.relative(userData, f)}:\n    ${text}`);
  }
};
const finish = async (code) => {
  if (failed > 0) {
    extensionLogs();
    say(`  code-server log: ${logFile}`);
  }
  say(`${SUITE}: ${passed} passed, ${failed} failed`);
  await cleanup();
  process.exit(code ?? (failed === 0 ? 0 : 1));
};
setTimeout(() => {
  check(`the whole test finishes within ${TOTAL_MS / 1000} s`, false);
  finish(1);
}, TOTAL_MS).unref();
process.on('SIGTERM', () => finish(1));

const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
let up = false;
for (let i = 0; i < 120 && !up; i++) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    up = r.ok;
  } catch {
    await sleep(250);
  }
}
check('code-server answers', up, fs.readFileSync(logFile, 'utf8').slice(-500));
if (!up) {
  await finish(1);
}

// ------------------------------------------------------------ browser
browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(30000);
await page.goto(url);
await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
say(`  workbench loaded: ${url}`);

const editorSel = '.editor-instance .monaco-editor';

async function openFile(name) {
  // Quick Open, as a person would.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } }).catch(() => {});
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
    } catch {
      continue;
    }
    await input.fill(name);
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: name })
      .first()
      .waitFor({ timeout: 10000 });
    await page.keyboard.press('Enter');
    try {
      await page.locator(`.tab[aria-label*="${name}"]`).first().waitFor({ timeout: 10000 });
      await page.locator(`${editorSel} .view-lines`).first().waitFor({ timeout: 10000 });
      return true;
    } catch {
      // try again
    }
  }
  return false;
}

/** Screen point of character `offset` of `needle` in the visible editor. */
async function pointOf(needle, offset) {
  return page.evaluate(
    ({ needle, offset, editorSel }) => {
      for (const line of document.querySelectorAll(`${editorSel} .view-lines .view-line`)) {
        const text = (line.textContent ?? '').replace(/\u00a0/g, ' ');
        const at = text.indexOf(needle);
        if (at < 0) {
          continue;
        }
        let want = at + (offset === 'end' ? needle.length : offset);
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        let node;
        let last;
        while ((node = walker.nextNode())) {
          last = node;
          const len = node.textContent.length;
          if (want < len || (offset === 'end' && want === len)) {
            const r = document.createRange();
            const start = Math.min(want, len - 1);
            r.setStart(node, start);
            r.setEnd(node, start + 1);
            const b = r.getBoundingClientRect();
            const x = offset === 'end' && want === len ? b.right + 1 : b.left + b.width / 2;
            return { x, y: b.top + b.height / 2 };
          }
          want -= len;
        }
        if (last) {
          const b = line.getBoundingClientRect();
          return { x: b.right - 2, y: b.top + b.height / 2 };
        }
      }
      return null;
    },
    { needle, offset, editorSel },
  );
}

async function hoverText(needle, offset, shot) {
  const deadline = Date.now() + 90000;
  let text = '';
  while (Date.now() < deadline) {
    const p = await pointOf(needle, offset);
    if (!p) {
      await sleep(500);
      continue;
    }
    await page.mouse.move(5, 450);
    await sleep(150);
    await page.mouse.move(p.x, p.y, { steps: 3 });
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      text = (await page.locator('.monaco-hover-content').allInnerTexts().catch(() => [])).join('\n');
      if (text.includes(ABSTRACT)) {
        await sleep(200);
        await page.screenshot({ path: path.join(OUT, shot) });
        return text;
      }
      await sleep(250);
    }
  }
  await page.screenshot({ path: path.join(OUT, shot) });
  return text;
}

// ---- Markdown: hover on a key, hover on a title, completion, palette search
const mdOpen = await openFile('note.md');
check('note.md opens in the editor', mdOpen);

let hover = await hoverText(`[@${KEY}`, 4, 'hover-key-markdown.png');
say(`  hover on [@${KEY}]: ${short(hover)}`);
check('hover on a citation key in Markdown shows the abstract', hover.includes(ABSTRACT));

if (BUNDLED) {
  // "Paper: Show server version" names the binary inside the extension.
  await page.mouse.move(5, 450);
  await page.keyboard.press('Escape');
  let shown = '';
  try {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10000 });
    await input.fill('>Paper: Show server version');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show server version' }).first().waitFor();
    await page.keyboard.press('Enter');
    const toast = page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'paper-ls ' });
    await toast.first().waitFor({ timeout: 15000 });
    shown = (await toast.first().innerText()).replace(/\s+/g, ' ');
    await page.screenshot({ path: path.join(OUT, 'server-version.png') });
  } catch (e) {
    say(`  show server version: ${short(e.message)}`);
  }
  say(`  Paper: Show server version: ${shown}`);
  const bundledPath = path.join(extensions, 'paper-ls.paper-ls-');
  check(
    '"Paper: Show server version" names the version, the commit and the binary inside the extension',
    /^paper-ls \d+\.\d+\.\d+ \([0-9a-f]{12}\) — /.test(shown) &&
      shown.includes(bundledPath) &&
      shown.includes('/server/paper-ls (inside the extension)'),
    shown,
  );
  await finish();
}

hover = await hoverText(TITLE, 12, 'hover-title-markdown.png');
say(`  hover on the title "${TITLE}": ${short(hover)}`);
check('hover on a paper title in prose shows the abstract', hover.includes(ABSTRACT));

// Completion: type `[@gro` at the end of "More on this: " and read the suggest widget.
await page.mouse.move(5, 450);
await page.keyboard.press('Escape');
const endOf = await pointOf('More on this:', 'end');
let suggestions = [];
if (endOf) {
  await page.mouse.click(endOf.x, endOf.y);
  await page.keyboard.press('End');
  await page.keyboard.type('[@gro', { delay: 80 });
  const rows = page.locator('.editor-widget.suggest-widget .monaco-list-row');
  const deadline = Date.now() + 30000;
  let triggered = false;
  while (Date.now() < deadline) {
    suggestions = await rows.allInnerTexts().catch(() => []);
    if (GROKKING.every((k) => suggestions.some((s) => s.includes(k)))) {
      break;
    }
    if (!triggered && Date.now() > deadline - 25000) {
      await page.keyboard.press('Control+Space'); // trigger suggest by hand if typing did not
      triggered = true;
    }
    await sleep(300);
  }
  await page.screenshot({ path: path.join(OUT, 'completion-markdown.png') });
}
say(`  suggest widget after [@gro: ${short(suggestions.map((s) => s.split('\n')[0]).join(' | '), 400)}`);
check(
  'completion after [@gro offers the three grokking papers',
  GROKKING.every((k) => suggestions.some((s) => s.includes(k))),
);

// Accept the first suggestion; the citation is in the text.
await page.keyboard.press('Escape');
await page.keyboard.press('Control+End');
await page.keyboard.press('Enter');
await page.keyboard.type('Cited: ', { delay: 30 });

// "Paper: Search corpus" from the command palette.
await page.keyboard.press('F1');
const palette = page.locator('.quick-input-widget input');
let cited = '';
try {
  await palette.waitFor({ state: 'visible', timeout: 10000 });
  await palette.fill('>Paper: Search corpus');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Paper: Search corpus' }).first().waitFor();
  await page.keyboard.press('Enter');
  await sleep(500);
  await page.keyboard.type('accelerated grokking slow gradients', { delay: 30 });
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: KEY }).first();
  await row.waitFor({ timeout: 20000 });
  const listed = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
  say(`  Paper: Search corpus lists: ${short(listed.map((s) => s.replace(/\n/g, ' ')).join(' | '), 400)}`);
  await page.screenshot({ path: path.join(OUT, 'search-corpus.png') });
  await row.click();
  // Save, and read the note from disk (the editor's DOM also holds inlay hints).
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    await page.keyboard.press('Control+S');
    await sleep(300);
    cited = fs.readFileSync(path.join(ws, 'note.md'), 'utf8');
    if (cited.includes(`Cited: [@${KEY}]`)) {
      break;
    }
  }
} catch (e) {
  say(`  palette: ${short(e.message)}`);
}
const citedLine = cited.split('\n').find((l) => l.startsWith('Cited:')) ?? short(cited, 200);
say(`  after choosing the paper: ${citedLine}`);
check('"Paper: Search corpus" inserts [@key] in Markdown', cited.includes(`Cited: [@${KEY}]`));

// ---- LaTeX: hover on a \cite key
await page.keyboard.press('Escape');
const texOpen = await openFile('chapter.tex');
check('chapter.tex opens in the editor', texOpen);
hover = await hoverText(`\\cite{${KEY}`, 8, 'hover-key-latex.png');
say(`  hover on \\cite{${KEY}}: ${short(hover)}`);
check('hover on a \\cite key in LaTeX shows the abstract', hover.includes(ABSTRACT));

// ---- Typst: hover on an @key reference
await page.keyboard.press('Escape');
const typOpen = await openFile('paper.typ');
check('paper.typ opens in the editor', typOpen);
hover = await hoverText(`@${KEY}`, 4, 'hover-key-typst.png');
say(`  hover on @${KEY} in Typst: ${short(hover)}`);
check('hover on an @key in Typst shows the abstract', hover.includes(ABSTRACT));

// "Paper: Reference list of this note" opens the note's references, in its
// style, as a Markdown document beside it.
await page.keyboard.press('Escape');
let list = '';
try {
  await page.keyboard.press('F1');
  await palette.waitFor({ state: 'visible', timeout: 10000 });
  await palette.fill('>Paper: Reference list of this note');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reference list of this note' }).first().waitFor();
  await page.keyboard.press('Enter');
  // The editor renders spaces as no-break spaces and wraps long lines.
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && !list.includes('References of paper.typ')) {
    await sleep(300);
    const shown = await page.locator('.editor-group-container.active .view-lines').first().innerText().catch(() => '');
    list = shown.replace(/\s+/g, ' ');
  }
  await page.screenshot({ path: path.join(OUT, 'reference-list.png') });
} catch (e) {
  say(`  reference list: ${short(e.message)}`);
}
say(`  reference list: ${short(list)}`);
check(
  '"Paper: Reference list of this note" shows the cited paper formatted',
  list.includes('References of paper.typ (apa)') && list.includes(`*${TITLE}*. (n.d.).`),
  short(list),
);

say(`  screenshots: ${fs.readdirSync(OUT).filter((f) => f.endsWith('.png')).join(', ')} in ${OUT}`);
await finish();
