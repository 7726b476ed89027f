#!/usr/bin/env python3
"""repl_pty_test.py — drives `cfmc repl` through a pseudo-terminal, as a person would: the
prompt, line editing mode, a continuation line, values printed, an error that does not end the
session, :type, Tab completion (a session variable, a field after `.`, a command), :doc, and the
persistent history file.

  repl_pty_test.py CFMC [REPL_OPTION...]   (e.g. --engine jit)"""
import os, pty, select, sys, tempfile, time

CFMC = sys.argv[1]
home = tempfile.mkdtemp()
pid, fd = pty.fork()
if pid == 0:
    os.environ['HOME'] = home
    os.environ['TERM'] = 'dumb'
    os.execv(CFMC, [CFMC, 'repl'] + sys.argv[2:])

buf = b''

def expect(text, timeout=10.0):
    global buf
    end = time.time() + timeout
    while text.encode() not in buf:
        left = end - time.time()
        if left <= 0:
            print(f'FAIL: did not see {text!r}; output so far:\n{buf.decode(errors="replace")}')
            sys.exit(1)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b''
            if not chunk:
                continue
            buf += chunk
    i = buf.index(text.encode()) + len(text)
    buf = buf[i:]

def send(line):
    os.write(fd, line.encode() + b'\r')

expect('cfm> ')
send('let x = 20')
expect('cfm> ')
send('x + 22')
expect('42')
expect('cfm> ')
send('[1,')
expect('...> ')            # continuation while a bracket is open
send('2]')
expect('[1, 2]')
send('nope + 1')
expect('undefined name `nope`')
expect('cfm> ')            # the session goes on
send(':type x')
expect('int')
# Tab completion: a session variable, a record field after `.`, a command, and :doc
send('let counter = 41')
expect('cfm> ')
send('record Srv { name: string, port: int }')
expect('cfm> ')
send('let srv = Srv { name: "web", port: 8080 }')
expect('cfm> ')
os.write(fd, b'coun\t')
time.sleep(0.3)
send('* 3')
expect('123')
os.write(fd, b'srv.po\t')
time.sleep(0.3)
send('+ 1')
expect('8081')
os.write(fd, b':ty\t')
time.sleep(0.3)
send('srv')
expect('Srv')
expect('cfm> ')
send(':doc Srv')
expect('port: int')
expect('cfm> ')
send(':quit')
os.waitpid(pid, 0)
hist = open(os.path.join(home, '.cfm_history'), errors='replace').read()
hist = hist.replace('\\040', ' ')  # libedit writes spaces as octal escapes
if 'let x = 20' not in hist:
    print('FAIL: history file lacks the session:', hist)
    sys.exit(1)
print('repl through a pseudo-terminal: ok', ' '.join(sys.argv[2:]))
