// extension.js — the VS Code client of CFM's language server: starts `cfmc lsp` (the program
// from the `cfp.server.path` setting, arguments from `cfp.server.args`) over stdio for .cfp
// files through vscode-languageclient. Highlighting and snippets work without it; when the
// server cannot start (cfmc missing, or a cfmc without `lsp`, which comes with a later release)
// the user gets one clear message naming the setting, not a stack trace.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverCommand() {
  const cfg = vscode.workspace.getConfiguration('cfp');
  const command = (cfg.get('server.path') || 'cfmc').trim();
  const args = cfg.get('server.args') || ['lsp'];
  return { command, args };
}

function explain(command, args, err) {
  const reason = err && err.message ? err.message : String(err);
  const line =
    `CFM: the language server (\`${[command, ...args].join(' ')}\`) did not start: ${reason}. ` +
    'Highlighting and snippets still work. Set "cfp.server.path" to a cfmc that has `cfmc lsp` ' +
    '(it comes with a later CFM release).';
  vscode.window.showErrorMessage(line, 'Open settings').then((choice) => {
    if (choice === 'Open settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'cfp.server.path');
    }
  });
}

async function start(context) {
  const { command, args } = serverCommand();
  const serverOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'cfp' }, { scheme: 'untitled', language: 'cfp' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.cfp') },
    // One failed start is reported once; the client does not retry a missing program forever.
    initializationFailedHandler: (err) => {
      explain(command, args, err);
      return false;
    },
  };
  client = new LanguageClient('cfp', 'CFM procedure language', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    explain(command, args, err);
    const failed = client;
    client = undefined;
    try {
      await failed.dispose();
    } catch (_) {
      // Already stopped: nothing else to release.
    }
  }
  context.subscriptions.push({ dispose: () => stop() });
}

async function stop() {
  if (!client) return;
  const running = client;
  client = undefined;
  try {
    await running.stop();
  } catch (_) {
    // A server that died on its own has nothing left to stop.
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('cfp.restartServer', async () => {
      await stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('cfp.server')) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
