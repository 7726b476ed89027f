" indent/cfp.vim — indentation for CFM procedure files: one 'shiftwidth' per open `{`, `(` or
" `[` (brackets inside strings and comments do not count), one less on a line that starts with a
" closer. Lines inside template bodies, triple-quoted strings and block comments keep their
" indentation (and their tabs, through 'preserveindent'): that text is output or prose, not code.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=CfpIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O,e
setlocal autoindent preserveindent
let b:undo_indent = 'setlocal indentexpr< indentkeys< autoindent< preserveindent<'

if exists('*CfpIndent')
  finish
endif

" True when column col of line lnum is inside a string, a template body or a comment.
function! s:InText(lnum, col) abort
  for id in synstack(a:lnum, a:col)
    if synIDattr(id, 'name') =~# '^cfp\%(String\|TripleString\|TemplateBody\|TemplateDelim\|BlockComment\|LineComment\)$'
      return 1
    endif
  endfor
  return 0
endfunction

" True when line lnum begins inside a multi-line string, template body or block comment.
function! s:StartsInText(lnum) abort
  let first = match(getline(a:lnum), '\S')
  if first < 0
    return 0
  endif
  for id in synstack(a:lnum, first + 1)
    let name = synIDattr(id, 'name')
    if name =~# '^cfp\%(TripleString\|TemplateBody\|BlockComment\)$'
      return 1
    endif
  endfor
  return 0
endfunction

" Opening minus closing brackets of line lnum that are code, not counting closers at the start
" of the line (that line's own indentation already took them off).
function! s:Balance(lnum) abort
  let text = getline(a:lnum)
  let n = 0
  let leading = 1
  for i in range(len(text))
    let c = text[i]
    if c =~# '\s'
      continue
    endif
    if c =~# '[{(\[]' && !s:InText(a:lnum, i + 1)
      let n += 1
    elseif c =~# '[})\]]' && !s:InText(a:lnum, i + 1)
      if !leading
        let n -= 1
      endif
      continue
    endif
    let leading = 0
  endfor
  return n
endfunction

function! CfpIndent(lnum) abort
  if a:lnum > 1 && s:StartsInText(a:lnum)
    return -1
  endif
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  " A statement whose text spans lines (a triple-quoted string, a template body, a comment):
  " its indentation is that of the line where it began; count the brackets of every line.
  let start = prev
  while start > 1 && s:StartsInText(start)
    let start = prevnonblank(start - 1)
  endwhile
  let balance = 0
  for l in range(start, prev)
    let balance += s:Balance(l)
  endfor
  let ind = indent(start)
  if balance > 0
    let ind += shiftwidth()
  elseif balance < 0
    let ind -= shiftwidth()
  endif
  if getline(a:lnum) =~# '^\s*[})\]]'
    let ind -= shiftwidth()
  endif
  return max([ind, 0])
endfunction
