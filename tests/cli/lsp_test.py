#!/usr/bin/env python3
"""lsp_test.py — scripted sessions with `cfmc lsp` over stdio, every reply asserted: the JSON-RPC
framing (garbage, bad JSON, unknown methods, requests before initialize, shutdown and exit),
initialize's capabilities, didOpen/didChange (incremental) with published diagnostics, hover,
completion (also after `.` in half-written text), signature help, definition across an import,
references (also in a workspace folder's file that is not open), document symbols, formatting (whole and range, a file that does not parse); then the figures of a 5,000-line file (didChange to diagnostics,
completion latency, the server's memory).

  lsp_test.py CFMC [--figures]   (--figures prints the measurements)"""
import json, os, select, subprocess, sys, tempfile, time

CFMC = sys.argv[1]
FIGURES = '--figures' in sys.argv
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print('FAIL:', what)


class Session:
    def __init__(self, *args):
        self.p = subprocess.Popen([CFMC, 'lsp'] + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b''
        self.next_id = 0
        self.notes = []

    def raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.raw(b'Content-Length: %d\r\n\r\n' % len(body) + body)

    def read(self, timeout=10.0):
        end = time.time() + timeout
        while True:
            h = self.buf.find(b'\r\n\r\n')
            if h >= 0:
                n = int(self.buf[:h].split(b':')[1])
                if len(self.buf) >= h + 4 + n:
                    msg = json.loads(self.buf[h + 4:h + 4 + n])
                    self.buf = self.buf[h + 4 + n:]
                    return msg
            left = end - time.time()
            if left <= 0:
                raise TimeoutError('no message from the server')
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError('the server closed its output')
                self.buf += chunk

    def request(self, method, params=None):
        self.next_id += 1
        msg = {'jsonrpc': '2.0', 'id': self.next_id, 'method': method}
        if params is not None:
            msg['params'] = params
        self.send(msg)
        return self.reply(self.next_id)

    def reply(self, rid):
        while True:
            m = self.read()
            if m.get('id') == rid and 'method' not in m:
                return m
            self.notes.append(m)

    def notify(self, method, params):
        self.send({'jsonrpc': '2.0', 'method': method, 'params': params})

    def diagnostics(self, uri, timeout=10.0):
        while True:
            for i, m in enumerate(self.notes):
                if m.get('method') == 'textDocument/publishDiagnostics' and m['params']['uri'] == uri:
                    del self.notes[i]
                    return m['params']['diagnostics']
            self.notes.append(self.read(timeout))

    def finish(self):
        r = self.request('shutdown')
        check(r.get('result', 'missing') is None, f'shutdown replies null: {r}')
        self.notify('exit', None)
        rc = self.p.wait(10)
        check(rc == 0, f'exit after shutdown gives 0, not {rc}')


def pos(line, ch):
    return {'line': line, 'character': ch}


tmp = tempfile.mkdtemp()
LIB = os.path.join(tmp, 'lib.cfp')
MAIN = os.path.join(tmp, 'main.cfp')
with open(LIB, 'w') as f:
    f.write('// The port a service listens on.\n'
            'record Service { name: string, port: int }\n'
            'fn describe(s: Service, verbose: int) -> string {\n'
            '  return s.name;\n'
            '}\n')
MAIN_TEXT = ('import "lib.cfp";\n'
             'const LIMIT: int = 3;\n'
             'procedure main() {\n'
             '  let svc = Service { name: "web", port: 80 };\n'
             '  print(describe(svc, LIMIT));\n'
             '  print(svc.port);\n'
             '}\n')
URI = 'file://' + MAIN
LIB_URI = 'file://' + LIB

# ---- framing and lifecycle ----
s = Session()
s.request('textDocument/hover', {'textDocument': {'uri': URI}, 'position': pos(0, 0)})
check(s.notes == [], 'nothing but the reply')
r = s.request('textDocument/hover', {'textDocument': {'uri': URI}, 'position': pos(0, 0)})
check(r.get('error', {}).get('code') == -32002, f'a request before initialize: -32002, got {r}')
s.raw(b'Content-Length: 5\r\n\r\n{oops')
r = s.read()
check(r.get('error', {}).get('code') == -32700 and r.get('id') is None, f'bad JSON: -32700, got {r}')
s.raw(b'X-Garbage: yes\r\n\r\n')
r = s.read()
check(r.get('error', {}).get('code') == -32700, f'a header without Content-Length: -32700, got {r}')
s.raw(b'Content-Length: 2\r\n\r\n[]')
r = s.read()
check(r.get('error', {}).get('code') == -32600, f'an empty batch: -32600, got {r}')
s.send({'jsonrpc': '2.0', 'id': 99, 'params': {}})
r = s.read()
check(r.get('error', {}).get('code') == -32600 and r.get('id') == 99, f'no method: -32600, got {r}')
r = s.request('initialize', {'processId': None, 'rootUri': None, 'capabilities': {}})
caps = r.get('result', {}).get('capabilities', {})
check(caps.get('textDocumentSync', {}).get('change') == 2, f'incremental sync: {caps}')
check(caps.get('workspace', {}).get('workspaceFolders', {}).get('supported') is True, f'workspace folders: {caps}')
for c in ['hoverProvider', 'completionProvider', 'definitionProvider', 'referencesProvider',
          'documentSymbolProvider', 'signatureHelpProvider']:
    check(c in caps, f'capability {c}')
check(caps.get('documentFormattingProvider') is True and caps.get('documentRangeFormattingProvider') is True,
      f'formatting offered: {caps}')
r = s.request('initialize', {'capabilities': {}})
check(r.get('error', {}).get('code') == -32600, f'a second initialize: -32600, got {r}')
s.notify('initialized', {})
r = s.request('workspace/noSuchThing', {})
check(r.get('error', {}).get('code') == -32601, f'unknown method: -32601, got {r}')
r = s.request('textDocument/hover', {'textDocument': {'uri': URI}})
check(r.get('error', {}).get('code') == -32602, f'missing position: -32602, got {r}')

# ---- documents, diagnostics ----
s.notify('textDocument/didOpen', {'textDocument': {'uri': URI, 'languageId': 'cfp', 'version': 1, 'text': MAIN_TEXT}})
d = s.diagnostics(URI)
check(d == [], f'a clean file publishes no diagnostics: {d}')
# an incremental change: `80` becomes `"x"` (a type error), line 3
col = MAIN_TEXT.splitlines()[3].index('80')
s.notify('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 2},
                                    'contentChanges': [{'range': {'start': pos(3, col), 'end': pos(3, col + 2)}, 'text': '"x"'}]})
d = s.diagnostics(URI)
check(len(d) == 1 and d[0]['range']['start']['line'] == 3 and d[0]['severity'] == 1, f'one type error on line 4: {d}')
out = subprocess.run([CFMC, 'check', MAIN], capture_output=True, text=True)
with open(os.path.join(tmp, 'same.cfp'), 'w') as f:
    f.write(MAIN_TEXT.replace('port: 80', 'port: "x"'))
out = subprocess.run([CFMC, 'check', os.path.join(tmp, 'same.cfp')], capture_output=True, text=True)
check(d and d[0]['message'] in out.stderr + out.stdout, f'the message of cfmc check: {d} vs {out.stderr}')
# back to clean, then a half-written line that does not parse
s.notify('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 3}, 'contentChanges': [{'text': MAIN_TEXT}]})
check(s.diagnostics(URI) == [], 'clean again')

# ---- hover ----
r = s.request('textDocument/hover', {'textDocument': {'uri': URI}, 'position': pos(3, 7)})
check('svc: Service' in r['result']['contents']['value'], f'hover on a variable: {r}')
r = s.request('textDocument/hover', {'textDocument': {'uri': URI}, 'position': pos(4, 10)})
check('fn describe(s: Service, verbose: int) -> string' in r['result']['contents']['value'], f'hover on a call: {r}')
r = s.request('textDocument/hover', {'textDocument': {'uri': URI}, 'position': pos(5, 13)})
check('Service.port: int' in r['result']['contents']['value'], f'hover on a field: {r}')
r = s.request('textDocument/hover', {'textDocument': {'uri': URI}, 'position': pos(6, 1)})
check(r.get('result', 'missing') is None, f'hover on nothing: null, {r}')

# ---- completion ----
r = s.request('textDocument/completion', {'textDocument': {'uri': URI}, 'position': pos(5, 2)})
labels = {i['label'] for i in r['result']['items']}
check({'svc', 'LIMIT', 'describe', 'Service', 'run_vm', 'let'} <= labels, f'names in scope: {sorted(labels)[:40]}')
half = MAIN_TEXT.replace('print(svc.port);', 'print(svc.')
s.notify('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 4}, 'contentChanges': [{'text': half}]})
r = s.request('textDocument/completion', {'textDocument': {'uri': URI}, 'position': pos(5, 12)})
labels = {i['label'] for i in r['result']['items']}
check({'name', 'port'} <= labels, f'fields after `.` in text that does not parse: {labels}')
d = s.diagnostics(URI)
check(len(d) >= 1, f'the syntax error is published: {d}')

# ---- signature help ----
sig = MAIN_TEXT.replace('print(svc.port);', 'describe(svc, ')
s.notify('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 5}, 'contentChanges': [{'text': sig}]})
r = s.request('textDocument/signatureHelp', {'textDocument': {'uri': URI}, 'position': pos(5, 16)})
res = r['result']
check(res and res['activeParameter'] == 1 and 'describe(' in res['signatures'][0]['label'], f'signature help: {r}')
s.notify('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 6}, 'contentChanges': [{'text': MAIN_TEXT}]})

# ---- definition, references, symbols ----
r = s.request('textDocument/definition', {'textDocument': {'uri': URI}, 'position': pos(4, 12)})
check(len(r['result']) == 1 and r['result'][0]['uri'] == LIB_URI and r['result'][0]['range']['start'] == pos(2, 3),
      f'definition across the import: {r}')
r = s.request('textDocument/definition', {'textDocument': {'uri': URI}, 'position': pos(0, 9)})
check(r['result'] and r['result'][0]['uri'] == LIB_URI, f'definition of an import: the file, {r}')
r = s.request('textDocument/references', {'textDocument': {'uri': URI}, 'position': pos(3, 7),
                                          'context': {'includeDeclaration': True}})
check(len(r['result']) == 3, f'references of svc: {r}')
# a file of the workspace that is not open: found once the folder is a workspace folder
OTHER = os.path.join(tmp, 'other.cfp')
with open(OTHER, 'w') as f:
    f.write('import "lib.cfp";\nprocedure other() {\n  print(describe(Service { name: "x", port: 1 }, 0));\n}\n')
def refs_of_describe():
    r = s.request('textDocument/references', {'textDocument': {'uri': URI}, 'position': pos(4, 12),
                                              'context': {'includeDeclaration': False}})
    return sorted((x['uri'].rsplit('/', 1)[1], x['range']['start']['line']) for x in r['result'])
check(refs_of_describe() == [('main.cfp', 4)], f'describe before the folder is added: {refs_of_describe()}')
s.notify('workspace/didChangeWorkspaceFolders', {'event': {'added': [{'uri': 'file://' + tmp, 'name': 'w'}], 'removed': []}})
# same.cfp (the `cfmc check` comparison above) is a file of the folder that uses describe too
check(refs_of_describe() == [('main.cfp', 4), ('other.cfp', 2), ('same.cfp', 4)],
      f'describe in the workspace: {refs_of_describe()}')
s.notify('workspace/didChangeWorkspaceFolders', {'event': {'added': [], 'removed': [{'uri': 'file://' + tmp, 'name': 'w'}]}})
check(refs_of_describe() == [('main.cfp', 4)], f'describe after the folder is removed: {refs_of_describe()}')
os.unlink(OTHER)
r = s.request('textDocument/documentSymbol', {'textDocument': {'uri': URI}})
names = [x['name'] for x in r['result']]
check(names == ['import "lib.cfp"', 'LIMIT', 'main'], f'symbols: {names}')

# an import opened and edited: its buffer, not the disk, is what main imports
s.notify('textDocument/didOpen', {'textDocument': {'uri': LIB_URI, 'languageId': 'cfp', 'version': 1,
                                                   'text': 'record Service { name: string }\nfn describe(s: Service, verbose: int) -> string { return s.name; }\n'}})
got = {}
for _ in range(2):
    m = s.read()
    if m.get('method') == 'textDocument/publishDiagnostics':
        got[m['params']['uri']] = m['params']['diagnostics']
check(got.get(LIB_URI) == [] and len(got.get(URI, [])) >= 1, f'main sees the open lib: {got}')
s.notify('textDocument/didClose', {'textDocument': {'uri': LIB_URI}})

# ---- formatting: the edits turn the buffer into `cfmc fmt`'s output ----
def apply_edits(text, edits):
    lines = text.split('\n')
    def off(p):
        return sum(len(l) + 1 for l in lines[:p['line']]) + p['character']  # ASCII text
    for e in sorted(edits, key=lambda e: off(e['range']['start']), reverse=True):
        a, b = off(e['range']['start']), off(e['range']['end'])
        text = text[:a] + e['newText'] + text[b:]
    return text


FMT = os.path.join(tmp, 'fmtme.cfp')
FMT_URI = 'file://' + FMT
FMT_TEXT = ('// kept as it is\n'
            'procedure main() {\n'
            '      let x=1+2;\n'
            '  print(x);\n'
            '  let y   =   [1,2];\n'
            '  print(y);\n'
            '      }')  # no newline at the end
want = subprocess.run([CFMC, 'fmt', '-'], input=FMT_TEXT.encode(), capture_output=True).stdout.decode()
check(want and want != FMT_TEXT, f'cfmc fmt changes the test text: {want!r}')
s.notify('textDocument/didOpen', {'textDocument': {'uri': FMT_URI, 'languageId': 'cfp', 'version': 1, 'text': FMT_TEXT}})
r = s.request('textDocument/formatting', {'textDocument': {'uri': FMT_URI}, 'options': {'tabSize': 2, 'insertSpaces': True}})
edits = r.get('result') or []
check(len(edits) >= 2 and all(e['range']['start']['line'] >= 2 for e in edits),
      f'formatting: one edit per run of changed lines, the unchanged head untouched: {r}')
check(apply_edits(FMT_TEXT, edits) == want, f'formatting gives cfmc fmt\'s text: {apply_edits(FMT_TEXT, edits)!r} vs {want!r}')
r = s.request('textDocument/rangeFormatting', {'textDocument': {'uri': FMT_URI}, 'range': {'start': pos(2, 0), 'end': pos(3, 0)},
                                               'options': {'tabSize': 2, 'insertSpaces': True}})
edits = r.get('result') or []
got_text = apply_edits(FMT_TEXT, edits)
check(len(edits) == 1 and got_text.split('\n')[2] == want.split('\n')[2] and got_text.split('\n')[4] == FMT_TEXT.split('\n')[4],
      f'range formatting changes line 2 only: {r}')
s.notify('textDocument/didChange', {'textDocument': {'uri': FMT_URI, 'version': 2}, 'contentChanges': [{'text': want}]})
r = s.request('textDocument/formatting', {'textDocument': {'uri': FMT_URI}, 'options': {'tabSize': 2, 'insertSpaces': True}})
check(r.get('result') == [], f'a formatted buffer: no edits, {r}')
s.notify('textDocument/didChange', {'textDocument': {'uri': FMT_URI, 'version': 3},
                                    'contentChanges': [{'text': 'procedure main() { let x = ; }\n'}]})
s.notes = []
r = s.request('textDocument/formatting', {'textDocument': {'uri': FMT_URI}, 'options': {'tabSize': 2, 'insertSpaces': True}})
check(r.get('result') == [], f'a file that does not parse: no edits, {r}')
logs = [m for m in s.notes if m.get('method') == 'window/logMessage']
check(len(logs) == 1 and 'syntax errors' in logs[0]['params']['message'] and 'fmtme.cfp:1:' in logs[0]['params']['message'],
      f'the reason in window/logMessage: {logs}')
r = s.request('textDocument/formatting', {'textDocument': {'uri': 'file:///nonexistent/closed.cfp'}, 'options': {}})
check(r.get('error', {}).get('code') == -32803, f'formatting a document that is not open: an error, {r}')
s.notify('textDocument/didClose', {'textDocument': {'uri': FMT_URI}})
s.finish()

# exit without shutdown: status 1; the end of input without exit: 1
s = Session()
s.request('initialize', {'capabilities': {}})
s.notify('exit', None)
check(s.p.wait(10) == 1, 'exit without shutdown gives 1')
s = Session()
s.raw(b'Content-Length: 100000000000\r\n\r\n')
r = s.read()
check(r.get('error', {}).get('code') == -32700, f'an absurd Content-Length: -32700, {r}')
s.p.stdin.close()
check(s.p.wait(10) == 1, 'the end of input gives 1')

# random bytes, then a session on odd documents: every request answered, clean exit
import random
random.seed(1)
s = Session()
s.raw(bytes(random.randrange(256) for _ in range(20000)) + b'\r\n\r\n')
r = s.request('initialize', {'capabilities': {}})
check('result' in r, f'initialize after garbage: {r}')
odd = ['procedure main() { let x = ', '}}}}((((', 'record R { a: R }\nfn f(r: R) -> int { return r.a.a.a; }', '"""',
       'template t(x: int) """{{ x. }}"""', 'import "/dev/zero";', 'import "nonexist.cfp";\nprocedure main() { nope(); }',
       'procedure main() { let s = "\u00e9\U0001F600"; s. }']
for i, t in enumerate(odd):
    u = 'file://' + os.path.join(tmp, f'odd{i}.cfp')
    s.notify('textDocument/didOpen', {'textDocument': {'uri': u, 'languageId': 'cfp', 'version': 1, 'text': t}})
    for m, extra in [('textDocument/completion', {'position': pos(0, len(t))}), ('textDocument/hover', {'position': pos(9, 999)}),
                     ('textDocument/definition', {'position': pos(0, 3)}), ('textDocument/references', {'position': pos(0, 3)}),
                     ('textDocument/signatureHelp', {'position': pos(0, len(t))}), ('textDocument/documentSymbol', {})]:
        r = s.request(m, dict({'textDocument': {'uri': u}}, **extra))
        check('result' in r, f'{m} on {t!r}: {r}')
s.finish()

# ---- figures on a 5,000-line file ----
big = ['record Item { id: int, name: string }', 'fn make(i: int) -> Item {', '  return Item { id: i, name: str(i) };', '}']
n = 0
while len(big) < 5000:
    big += [f'fn f{n}(x: int) -> int {{', f'  let it = make(x + {n});', '  var total = 0;',
            '  for i in 0..x {', '    total += i * it.id;', '  }', '  return total;', '}']
    n += 1
big += ['procedure main() {', '  print(f0(3));', '  let it = make(1);', '  print(it.name);', '}']
BIG = os.path.join(tmp, 'big.cfp')
BIG_URI = 'file://' + BIG
text = '\n'.join(big) + '\n'
s = Session('--debounce', '0')
s.request('initialize', {'capabilities': {}})
s.notify('textDocument/didOpen', {'textDocument': {'uri': BIG_URI, 'languageId': 'cfp', 'version': 1, 'text': text}})
check(s.diagnostics(BIG_URI, 30) == [], 'the big file is clean')
times = []
for v in range(10):
    t0 = time.perf_counter()
    last = len(big) - 2
    s.notify('textDocument/didChange', {'textDocument': {'uri': BIG_URI, 'version': v + 2},
                                        'contentChanges': [{'range': {'start': pos(last, 2), 'end': pos(last, 2)}, 'text': ' '}]})
    s.diagnostics(BIG_URI, 30)
    times.append((time.perf_counter() - t0) * 1000)
ctimes = []
for _ in range(10):
    t0 = time.perf_counter()
    r = s.request('textDocument/completion', {'textDocument': {'uri': BIG_URI}, 'position': pos(len(big) - 2, 2)})
    ctimes.append((time.perf_counter() - t0) * 1000)
check(any(i['label'] == 'it' for i in r['result']['items']), 'completion in the big file')
dtimes = []
for _ in range(5):
    t0 = time.perf_counter()
    r = s.request('textDocument/completion', {'textDocument': {'uri': BIG_URI}, 'position': pos(len(big) - 2, 12 + len('print(it.'))})  # 10 spaces were typed
    dtimes.append((time.perf_counter() - t0) * 1000)
check({'id', 'name'} <= {i['label'] for i in r['result']['items']}, f'fields after `.` in the big file: {r}')
rss = []
with open(f'/proc/{s.p.pid}/status') as f:
    for line in f:
        if line.startswith('VmRSS:') or line.startswith('VmHWM:'):
            rss.append(' '.join(line.split()))
rss = ', '.join(rss)
with open(f'/proc/{s.p.pid}/maps') as f:
    maps = f.read()
check('LLVM' not in maps and 'cfm_jit_engine' not in maps, 'the server never maps LLVM or the JIT engine')
s.finish()
if FIGURES:
    times.sort(); ctimes.sort(); dtimes.sort()
    print(f'5,000-line file ({len(big)} lines): didChange -> diagnostics median {times[len(times)//2]:.1f} ms, max {times[-1]:.1f} ms')
    print(f'completion (names in scope) median {ctimes[len(ctimes)//2]:.1f} ms; after `.` median {dtimes[len(dtimes)//2]:.1f} ms')
    print(f'server memory: {rss}')

if failures:
    print(f'{failures} failure(s)')
    sys.exit(1)
print('ok')
