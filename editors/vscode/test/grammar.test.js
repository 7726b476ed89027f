// grammar.test.js — tests syntaxes/cfp.tmLanguage.json with the engine VS Code uses
// (vscode-textmate on vscode-oniguruma).
//
// 1. Every test/cases/*.cfp file carries inline assertions in the style of vscode-tmgrammar-test:
//    a line `//   ^^^ scope.a scope.b - scope.c` checks the columns under the carets of the
//    nearest source line above it: each listed scope must be on the token's scope stack (a
//    listed name also matches its dotted extensions, as TextMate selectors do), each scope
//    after a lone `-` must not be. `// <-- scope` checks columns 0 and 1 (one column per dash).
//    Assertion lines are taken out before tokenizing, so they may sit inside strings and
//    templates. Each case file must end with the tokenizer back at the top level.
// 2. Every .cfp file of samples/ and tests/conformance/ is tokenized: a file that expects no
//    unterminated-construct error ends at the top level, and a file that expects no error at
//    all has no token scoped `invalid`.
// 3. The package: the files package.json contributes exist and parse (JSON with comments where
//    VS Code allows them), and the regular expressions of language-configuration.json compile.
// Usage: node grammar.test.js [REPO_ROOT]  (exits 0 when every check passes, 1 otherwise).
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = __dirname;
const repo = path.resolve(process.argv[2] || path.join(here, '..', '..', '..'));
const grammarPath = path.join(here, '..', 'syntaxes', 'cfp.tmLanguage.json');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === 'source.cfp'
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath)
        : null,
  });
  return registry.loadGrammar('source.cfp');
}

// Tokenizes lines; returns per line the tokens ({startIndex, endIndex, scopes}) and the final
// rule stack.
function tokenize(grammar, lines) {
  let stack = vsctm.INITIAL;
  const out = [];
  for (const line of lines) {
    const r = grammar.tokenizeLine(line, stack);
    out.push(r.tokens);
    stack = r.ruleStack;
  }
  return { tokens: out, stack };
}

function scopesAt(tokens, col) {
  const t = tokens.find((tok) => tok.startIndex <= col && col < tok.endIndex);
  return t ? t.scopes : null;
}

function hasScope(scopes, want) {
  return scopes.some((s) => s === want || s.startsWith(want + '.'));
}

const ASSERTION = /^(\s*)\/\/(\s*)(\^+|<-+)\s+(\S.*)$/;

function parseCase(text) {
  const source = [];
  const checks = [];
  text.split('\n').forEach((raw, i) => {
    const m = ASSERTION.exec(raw);
    if (!m) {
      source.push({ text: raw, fileLine: i + 1 });
      return;
    }
    if (source.length === 0) throw new Error(`line ${i + 1}: an assertion before any source line`);
    const marks = m[3];
    const first = marks[0] === '^' ? raw.indexOf('^') : 0;
    const count = marks[0] === '^' ? marks.length : marks.length - 1;
    const words = m[4].trim().split(/\s+/);
    const dash = words.indexOf('-');
    const want = dash < 0 ? words : words.slice(0, dash);
    const reject = dash < 0 ? [] : words.slice(dash + 1);
    if (want.length + reject.length === 0) throw new Error(`line ${i + 1}: an assertion without scopes`);
    checks.push({ line: source.length - 1, first, count, want, reject, fileLine: i + 1 });
  });
  return { source, checks };
}

function runCase(grammar, file, failures) {
  const { source, checks } = parseCase(fs.readFileSync(file, 'utf8'));
  const { tokens, stack } = tokenize(grammar, source.map((s) => s.text));
  const name = path.relative(repo, file);
  for (const c of checks) {
    for (let col = c.first; col < c.first + c.count; col++) {
      const scopes = scopesAt(tokens[c.line], col) || [];
      const missing = c.want.filter((w) => !hasScope(scopes, w));
      const present = c.reject.filter((w) => hasScope(scopes, w));
      if (missing.length || present.length) {
        const src = source[c.line];
        failures.push(
          `${name}:${src.fileLine}:${col + 1} (assertion on line ${c.fileLine}) ` +
            `\`${src.text.slice(col, col + 1)}\` has [${scopes.join(' ')}]` +
            (missing.length ? `, missing ${missing.join(' ')}` : '') +
            (present.length ? `, must not have ${present.join(' ')}` : ''),
        );
        break;
      }
    }
  }
  if (stack.depth !== 1) failures.push(`${name}: ends inside a construct (rule stack depth ${stack.depth})`);
  return checks.length;
}

function cfpFiles(dir) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...cfpFiles(p));
    else if (e.name.endsWith('.cfp')) out.push(p);
  }
  return out.sort();
}

function runCorpusFile(grammar, file, failures) {
  const text = fs.readFileSync(file, 'utf8');
  const name = path.relative(repo, file);
  // The conformance suite's expectation comments: `// error:COL: ...` and `// error@L:C: ...`.
  const expectsError = /\/\/ error[:@]/.test(text);
  const expectsUnterminated = /\/\/ error[:@][0-9:]*:? ?unterminated/.test(text);
  const { tokens, stack } = tokenize(grammar, text.split('\n'));
  if (!expectsUnterminated && stack.depth !== 1) {
    failures.push(`${name}: ends inside a construct (rule stack depth ${stack.depth})`);
  }
  if (!expectsError) {
    tokens.forEach((line, i) => {
      const bad = line.find((t) => t.scopes.some((s) => s.startsWith('invalid')));
      if (bad) failures.push(`${name}:${i + 1}:${bad.startIndex + 1}: an invalid token in a well-formed file`);
    });
  }
}

// JSON with whole-line `//` comments, as the header comments of these files are written.
function readJsonc(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
}

function checkPackage(failures) {
  const root = path.join(here, '..');
  const fail = (msg) => failures.push(`package: ${msg}`);
  try {
    const pkg = readJsonc(path.join(root, 'package.json'));
    const c = pkg.contributes;
    if (!fs.existsSync(path.join(root, pkg.main))) fail(`main ${pkg.main} is missing`);
    const lang = c.languages.find((l) => l.id === 'cfp');
    if (!lang || !lang.extensions.includes('.cfp')) fail('no language `cfp` for .cfp files');
    const conf = readJsonc(path.join(root, lang.configuration));
    for (const re of Object.values(conf.indentationRules || {})) new RegExp(re);
    for (const rule of conf.onEnterRules || []) new RegExp(rule.beforeText);
    new RegExp(conf.wordPattern);
    for (const g of c.grammars) {
      const raw = JSON.parse(fs.readFileSync(path.join(root, g.path), 'utf8'));
      if (raw.scopeName !== g.scopeName) fail(`${g.path} has scope ${raw.scopeName}, not ${g.scopeName}`);
    }
    for (const sn of c.snippets) {
      const snippets = readJsonc(path.join(root, sn.path));
      for (const want of ['procedure', 'async/wait', 'try/catch', 'template']) {
        if (!snippets[want]) fail(`${sn.path} has no \`${want}\` snippet`);
      }
    }
    const setting = c.configuration.properties['cfp.server.path'];
    if (!setting || setting.default !== 'cfmc') fail('no setting cfp.server.path defaulting to cfmc');
  } catch (err) {
    fail(String(err));
  }
}

async function main() {
  const grammar = await loadGrammar();
  const failures = [];
  checkPackage(failures);
  const cases = cfpFiles(path.join(here, 'cases'));
  if (cases.length === 0) failures.push('no case files in test/cases');
  let assertions = 0;
  for (const f of cases) assertions += runCase(grammar, f, failures);
  const corpus = [...cfpFiles(path.join(repo, 'samples')), ...cfpFiles(path.join(repo, 'tests', 'conformance'))];
  if (corpus.length === 0) failures.push(`no .cfp files under ${repo}/samples or tests/conformance`);
  for (const f of corpus) runCorpusFile(grammar, f, failures);
  for (const f of failures) console.error(`FAIL ${f}`);
  console.log(
    `${cases.length} case files, ${assertions} assertions; ${corpus.length} sample and conformance files; ` +
      `${failures.length} failures`,
  );
  process.exit(failures.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
