" ftdetect/cfp.vim — CFM procedure files (*.cfp) get the filetype `cfp`.
autocmd BufRead,BufNewFile *.cfp setfiletype cfp
