" ftplugin/cfp.vim — buffer settings for CFM procedure files: comment markers (for `gc`-style
" plugins and `gq`), `gf` on import paths, and `%` over brackets.
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=//\ %s
setlocal comments=s1:/*,mb:*,ex:*/,://
setlocal formatoptions-=t formatoptions+=croql
setlocal suffixesadd=.cfp
setlocal matchpairs=(:),{:},[:]
setlocal expandtab shiftwidth=2 softtabstop=2

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< suffixesadd< matchpairs<'
      \ . ' expandtab< shiftwidth< softtabstop<'
