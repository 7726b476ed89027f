" syntax/cfp.vim — Vim highlighting for CFM's procedure language (.cfp), after
" grammar/CfpLexer.g4: comments, "..." strings with escapes and ${...}, """...""" strings,
" template bodies with {{ }} and {% %}, durations, numbers, keywords, built-in and model types,
" built-in and API functions, operators. Where two items start at one column the one defined
" last wins, so the order below matters (numbers from the most general to the most specific,
" operators before comments).
if exists('b:current_syntax')
  finish
endif

syn sync minlines=200

" ---- numbers ----
syn match cfpBadNumber '\<\d\w*\%(\.\d\w*\)\='
syn match cfpNumber '\<\d[0-9_]*\>'
syn match cfpNumber '\<0[xX]_*\x[0-9a-fA-F_]*\>'
syn match cfpNumber '\<0[oO]_*\o[0-7_]*\>'
syn match cfpNumber '\<0[bB]_*[01][01_]*\>'
syn match cfpFloat '\<\d[0-9_]*\%(\.\d[0-9_]*\%([eE][+-]\=\d[0-9_]*\)\=\|[eE][+-]\=\d[0-9_]*\)\>'
syn match cfpDuration '\<\d[0-9_]*\%(\.\d[0-9_]*\)\=\%([eE][+-]\=\d[0-9_]*\)\=\%(ms\|s\|m\|h\)\>'

" ---- operators and punctuation ----
syn match cfpOperator '->\|\.\.\|[=!<>]=\=\|&&\|||\|[-+*/%]=\='
syn match cfpAccessor '\.\ze\s*\h'

" ---- names ----
syn match cfpUserType '\<\u\w*\l\w*\>'
syn match cfpType '\<\%(int\|float\|bool\|string\|duration\|void\|json\|list\|map\|Task\)\>\%(\s*(\)\@!'
syn keyword cfpModelType BusinessSystem BusinessSystemElement BusinessSystemElementInstance
syn keyword cfpModelType VMClass VMInstance ConfigTemplate
syn keyword cfpApiType CommandResult CloudEvent
syn match cfpCall '\<\h\w*\ze\s*('
syn match cfpMethod '\%(\.\s*\)\@<=\h\w*\ze\s*('
syn match cfpBuiltin '\<\%(print\|str\|int\|float\|len\|sleep\|now\|parse_json\|to_json\|fail\|wait\)\ze\s*('
syn match cfpApi '\<\%(run_vm\|terminate_vm\|attach_volume\|associate_address\|reload\|set_property\|this_manager\|this_cloud\|run_agent_command\|put_file\|publish_cloud_event\|wait_cloud_event\)\ze\s*('
syn match cfpFuncName '\%(\<\%(fn\|procedure\|template\)\s\+\)\@<=\h\w*'
syn match cfpRecordName '\%(\<record\s\+\)\@<=\h\w*'

" ---- keywords ----
syn keyword cfpDeclaration fn procedure record const let var
" Not a keyword: a keyword would win over cfpTemplateHead, which starts at the same column.
syn match cfpDeclaration '\<template\>'
syn keyword cfpInclude import
syn keyword cfpConditional if else
syn keyword cfpRepeat while for in break continue
syn keyword cfpStatement return
syn keyword cfpException try catch throw
syn keyword cfpAsync async
syn keyword cfpBoolean true false
syn keyword cfpNull null

" Everything code is made of, for the places that hold code (interpolations, template parts);
" @cfpExpr leaves out the statement keywords so that `for`, `in`, `if`, `else` inside `{% %}`
" are the template's own.
syn cluster cfpExpr contains=cfpBadNumber,cfpNumber,cfpFloat,cfpDuration,cfpOperator,cfpAccessor,
      \cfpUserType,cfpType,cfpModelType,cfpApiType,cfpCall,cfpMethod,cfpBuiltin,cfpApi,cfpBoolean,
      \cfpNull,cfpAsync,cfpString,cfpTripleString,cfpLineComment,cfpBlockComment,cfpBraces,cfpParens
syn cluster cfpCode contains=@cfpExpr,cfpDeclaration,cfpConditional,cfpRepeat,cfpStatement,cfpException
syn region cfpBraces start='{' end='}' transparent contained contains=@cfpCode
syn region cfpParens start='(' end=')' transparent contained contains=@cfpCode

" ---- strings ----
syn match cfpEscape '\\[ntr"\\$]' contained
syn match cfpEscape '\\u{\x\{1,6}}' contained
syn match cfpBadEscape '\\\%([ntr"\\$]\|u{\x\{1,6}}\)\@!\%(u{\x*}\=\|.\)\=' contained
syn region cfpInterp matchgroup=cfpInterpDelim start='\${' end='}' contained contains=@cfpCode
syn region cfpString start='"' skip='\\\\\|\\"' end='"\|$' contains=cfpEscape,cfpBadEscape,cfpInterp
syn match cfpTripleEscape '\\\$' contained
syn region cfpTripleString start='"""' end='"""' contains=cfpTripleEscape,cfpInterp

" ---- templates: the """ right after `template NAME(...)` opens a raw body ----
syn keyword cfpTplKeyword for in if else end contained
syn region cfpTplExpr matchgroup=cfpTplDelim start='{{' end='}}' contained contains=@cfpCode
syn region cfpTplTag matchgroup=cfpTplDelim start='{%' end='%}' contained contains=cfpTplKeyword,@cfpExpr
syn match cfpTemplateHead '\<template\>\_s\+\h\w*\_s*(\_.\{-})\ze\_s*"""'
      \ contains=cfpDeclaration,cfpFuncName,@cfpCode nextgroup=cfpTemplateBody skipwhite skipnl
syn region cfpTemplateBody matchgroup=cfpTemplateDelim start='"""' end='"""' contained
      \ contains=cfpTplExpr,cfpTplTag

" ---- comments ----
syn keyword cfpTodo TODO FIXME XXX NOTE contained
syn match cfpLineComment '//.*' contains=cfpTodo
syn region cfpBlockComment start='/\*' end='\*/' contains=cfpTodo

hi def link cfpBadNumber Error
hi def link cfpNumber Number
hi def link cfpFloat Float
hi def link cfpDuration Number
hi def link cfpOperator Operator
hi def link cfpAccessor Delimiter
hi def link cfpUserType Type
hi def link cfpType Type
hi def link cfpModelType Structure
hi def link cfpApiType Structure
hi def link cfpCall Function
hi def link cfpMethod Function
hi def link cfpBuiltin Function
hi def link cfpApi Special
hi def link cfpFuncName Function
hi def link cfpRecordName Type
hi def link cfpDeclaration StorageClass
hi def link cfpInclude Include
hi def link cfpConditional Conditional
hi def link cfpRepeat Repeat
hi def link cfpStatement Statement
hi def link cfpException Exception
hi def link cfpAsync Keyword
hi def link cfpBoolean Boolean
hi def link cfpNull Constant
hi def link cfpEscape SpecialChar
hi def link cfpBadEscape Error
hi def link cfpInterpDelim Delimiter
hi def link cfpString String
hi def link cfpTripleEscape SpecialChar
hi def link cfpTripleString String
hi def link cfpTplKeyword Keyword
hi def link cfpTplDelim PreProc
hi def link cfpTemplateDelim String
hi def link cfpTemplateBody String
hi def link cfpTodo Todo
hi def link cfpLineComment Comment
hi def link cfpBlockComment Comment

let b:current_syntax = 'cfp'
