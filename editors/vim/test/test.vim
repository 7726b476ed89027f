" test.vim — the ctest `editors.vim`, run by run.sh in headless Vim (vim -es -u NONE -N with
" editors/vim on 'runtimepath'). Opens syntax.cfp and checks the syntax group at chosen places,
" then reindents indent_input.cfp with gg=G and compares it with indent_expected.cfp, and checks
" that gg=G leaves every .cfp file of samples/ as it is and that every sample and conformance file
" ends outside strings, templates and comments. Prints
" every failure and exits non-zero if there is one.
filetype plugin indent on
syntax on

let s:dir = expand('<sfile>:p:h')
let s:failures = []
let s:count = 0

" Each check: a pattern (its match start, or \zs, is the place checked; searched from the top
" of the file, the first match counts) and the innermost syntax group expected there.
let s:checks = [
      \ ['^//\zs syntax', 'cfpLineComment'],
      \ ['\zsTODO', 'cfpTodo'],
      \ ['^   \zscomment', 'cfpBlockComment'],
      \ ['^\zsimport', 'cfpInclude'],
      \ ['^import \zs"lib', 'cfpString'],
      \ ['^\zsconst', 'cfpDeclaration'],
      \ ['RETRIES = \zs3', 'cfpNumber'],
      \ ['^\zsrecord', 'cfpDeclaration'],
      \ ['record \zsEndpoint', 'cfpRecordName'],
      \ ['host: \zsstring', 'cfpType'],
      \ ['^fn \zsaddr', 'cfpFuncName'],
      \ ['e: \zsEndpoint', 'cfpUserType'],
      \ [') \zs-> string', 'cfpOperator'],
      \ ['{ \zsreturn', 'cfpStatement'],
      \ ['"\zs${e.host}', 'cfpInterpDelim'],
      \ ['${\zse.host', 'cfpInterp'],
      \ ['${e\zs\.host', 'cfpAccessor'],
      \ ['^\zsprocedure main', 'cfpDeclaration'],
      \ ['d: duration = \zs10m', 'cfpDuration'],
      \ ['d: \zsduration', 'cfpType'],
      \ ['\zslist<int>', 'cfpType'],
      \ ['\zs1_000', 'cfpNumber'],
      \ ['\zs0x1F', 'cfpNumber'],
      \ ['\zs0o644', 'cfpNumber'],
      \ ['\zs0b101', 'cfpNumber'],
      \ [', \zs1\.5,', 'cfpFloat'],
      \ ['\zs2e10', 'cfpFloat'],
      \ ['\zs1\.5e-3', 'cfpFloat'],
      \ ['\zs500ms', 'cfpDuration'],
      \ ['500\zsms', 'cfpDuration'],
      \ ['\zs30s', 'cfpDuration'],
      \ ['\zs1\.5m', 'cfpDuration'],
      \ ['\zs2h', 'cfpDuration'],
      \ ['\zs4kb', 'cfpBadNumber'],
      \ ['^  \zsfor i', 'cfpRepeat'],
      \ ['for i \zsin', 'cfpRepeat'],
      \ ['in 0\zs\.\.n', 'cfpOperator'],
      \ ['{ \zsif i', 'cfpConditional'],
      \ ['i \zs% 2', 'cfpOperator'],
      \ ['\zs== 0', 'cfpOperator'],
      \ ['\zs&&', 'cfpOperator'],
      \ ['!\zsfalse', 'cfpBoolean'],
      \ ['\zscontinue', 'cfpRepeat'],
      \ ['} \zselse {', 'cfpConditional'],
      \ ['\zswhile', 'cfpRepeat'],
      \ ['n \zs-= 1', 'cfpOperator'],
      \ ['j: \zsjson', 'cfpType'],
      \ ['\zsnull', 'cfpNull'],
      \ ['t: \zsTask', 'cfpType'],
      \ ['\zsasync addr', 'cfpAsync'],
      \ ['async \zsaddr', 'cfpCall'],
      \ ['^  \zsprint(', 'cfpBuiltin'],
      \ ['print(\zsstr(', 'cfpBuiltin'],
      \ ['str(\zsint(', 'cfpBuiltin'],
      \ ['\zslen(xs', 'cfpBuiltin'],
      \ ['^  \zstry', 'cfpException'],
      \ ['\zsthrow', 'cfpException'],
      \ ['\zscatch', 'cfpException'],
      \ ['\zsfail(', 'cfpBuiltin'],
      \ ['vm: \zsVMInstance', 'cfpModelType'],
      \ ['\zsrun_vm', 'cfpApi'],
      \ ['timeout: \zs10m', 'cfpDuration'],
      \ ['res: \zsCommandResult', 'cfpApiType'],
      \ ['\zsrun_agent_command', 'cfpApi'],
      \ ['\.\zssplit', 'cfpMethod'],
      \ ['tab\zs\\t', 'cfpEscape'],
      \ ['bad\zs\\q', 'cfpBadEscape'],
      \ ['face\zs\\u{1F600}', 'cfpEscape'],
      \ ['\zs${ {"k"', 'cfpInterpDelim'],
      \ ['${ {\zs"k"', 'cfpString'],
      \ ['"k": \zsn}', 'cfpInterp'],
      \ ['\["k"\] \zs}', 'cfpInterpDelim'],
      \ ['} \zs// not a comment', 'cfpString'],
      \ ['\zs"""raw', 'cfpTripleString'],
      \ ['raw \zs\\n', 'cfpTripleString'],
      \ ['\zs${n}', 'cfpInterpDelim'],
      \ ['\zs\\${kept}', 'cfpTripleEscape'],
      \ ['\zs{{ no }}', 'cfpTripleString'],
      \ ['^\zstemplate', 'cfpDeclaration'],
      \ ['template \zsupstream', 'cfpFuncName'],
      \ ['servers: \zslist', 'cfpType'],
      \ ['<string>) \zs"""', 'cfpTemplateDelim'],
      \ ['^\zsupstream {{', 'cfpTemplateBody'],
      \ ['^upstream \zs{{', 'cfpTplDelim'],
      \ ['^upstream {{ \zsname', 'cfpTplExpr'],
      \ ['}} \zs{ "q"', 'cfpTemplateBody'],
      \ ['{ \zs"q"', 'cfpTemplateBody'],
      \ ['\zs${VAR}', 'cfpTemplateBody'],
      \ ['\zs// text', 'cfpTemplateBody'],
      \ ['^\zs{% for', 'cfpTplDelim'],
      \ ['^{% \zsfor s', 'cfpTplKeyword'],
      \ ['for s \zsin', 'cfpTplKeyword'],
      \ ['in \zsservers %}', 'cfpTplTag'],
      \ ['^    \zsserver', 'cfpTemplateBody'],
      \ ['{{ \zs{"a"', 'cfpTplExpr'],
      \ ['{{ {\zs"a"', 'cfpString'],
      \ ['\zs80}', 'cfpNumber'],
      \ ['+ \zslen(name', 'cfpBuiltin'],
      \ ['name) \zs}};', 'cfpTplDelim'],
      \ ['{% \zselse if', 'cfpTplKeyword'],
      \ ['else \zsif true', 'cfpTplKeyword'],
      \ ['if \zstrue %}', 'cfpBoolean'],
      \ ['{% \zsend', 'cfpTplKeyword'],
      \ ['^\zs"""$', 'cfpTemplateDelim'],
      \ ['^\zsprocedure after', 'cfpDeclaration'],
      \ ['{ \zsreturn; }', 'cfpStatement'],
      \ ]

function! s:CheckSyntax() abort
  execute 'edit' fnameescape(s:dir . '/syntax.cfp')
  if &filetype !=# 'cfp'
    call add(s:failures, 'syntax.cfp: filetype is "' . &filetype . '", not "cfp" (ftdetect)')
    return
  endif
  for [pat, want] in s:checks
    let s:count += 1
    call cursor(1, 1)
    let [l, c] = searchpos(pat, 'cW')
    if l == 0
      call add(s:failures, 'syntax.cfp: no match for /' . pat . '/')
      continue
    endif
    let got = synIDattr(synID(l, c, 1), 'name')
    if got !=# want
      call add(s:failures, printf('syntax.cfp:%d:%d /%s/: %s, expected %s', l, c, pat, got, want))
    endif
  endfor
  " The buffer settings of ftplugin/cfp.vim.
  let s:count += 1
  if &l:commentstring !=# '// %s'
    call add(s:failures, 'ftplugin: commentstring is "' . &l:commentstring . '"')
  endif
  bwipeout!
endfunction

function! s:CheckIndent() abort
  execute 'edit' fnameescape(s:dir . '/indent_input.cfp')
  normal! gg=G
  let got = getline(1, '$')
  let want = readfile(s:dir . '/indent_expected.cfp')
  let s:count += 1
  for i in range(max([len(got), len(want)]))
    let g = get(got, i, '<none>')
    let w = get(want, i, '<none>')
    if g !=# w
      call add(s:failures, printf('indent_input.cfp:%d: "%s", expected "%s"', i + 1, g, w))
    endif
  endfor
  bwipeout!
endfunction

" Every sample of the repository keeps its layout under gg=G.
function! s:CheckSamples() abort
  let files = globpath(s:dir . '/../../../samples', '**/*.cfp', 0, 1)
  let s:count += 1
  if empty(files)
    call add(s:failures, 'no .cfp files under samples/')
  endif
  for f in files
    execute 'edit' fnameescape(f)
    let before = getline(1, '$')
    normal! gg=G
    let after = getline(1, '$')
    for i in range(len(before))
      if before[i] !=# after[i]
        call add(s:failures, printf('%s:%d: gg=G changed "%s" to "%s"', fnamemodify(f, ':.'), i + 1, before[i], after[i]))
        break
      endif
    endfor
    bwipeout!
  endfor
endfunction

" Every .cfp file of samples/ and tests/conformance/ ends outside strings, template bodies and
" comments, unless it expects an unterminated-construct error.
function! s:CheckCorpus() abort
  let root = s:dir . '/../../..'
  let files = globpath(root . '/samples', '**/*.cfp', 0, 1)
        \ + globpath(root . '/tests/conformance', '**/*.cfp', 0, 1)
  let s:count += 1
  if len(files) < 100
    call add(s:failures, 'only ' . len(files) . ' .cfp files under samples/ and tests/conformance/')
  endif
  for f in files
    execute 'edit' fnameescape(f)
    if search('// error[:@][0-9:]*:\= \=unterminated', 'nw') == 0
      let last = prevnonblank('$')
      if last > 0
        syntax sync fromstart
        let names = map(synstack(last, max([1, col([last, '$']) - 1])), 'synIDattr(v:val, "name")')
        call filter(names, 'v:val =~# "^cfp\\%(String\\|TripleString\\|TemplateBody\\|BlockComment\\|Interp\\|TplExpr\\|TplTag\\)$"')
        if !empty(names)
          call add(s:failures, printf('%s:%d: ends inside %s', fnamemodify(f, ':.'), last, join(names)))
        endif
      endif
    endif
    bwipeout!
  endfor
endfunction

try
  call s:CheckSyntax()
  call s:CheckIndent()
  call s:CheckSamples()
  call s:CheckCorpus()
catch
  call add(s:failures, 'exception: ' . v:exception . ' at ' . v:throwpoint)
endtry
call writefile(s:failures + [printf('%d checks, %d failures', s:count, len(s:failures))], '/dev/stdout')
if empty(s:failures)
  qall!
endif
cquit!
